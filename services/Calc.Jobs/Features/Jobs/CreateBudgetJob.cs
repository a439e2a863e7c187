using Calc.Core.Callbacks;
using Calc.Core.Contracts;
using Calc.Core.Hosting;
using Calc.Core.Idempotency;
using Calc.Core.Scheduling;
using Calc.Core.Validation;
using Calc.Jobs.Domain;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Calc.Jobs.Features.Jobs;

/// <summary>POST /jobs/budget: a budget to distribute over the days a job is online.</summary>
/// <param name="JobId">The job's id (letters, digits, '-', '_', at most 64); generated when absent.</param>
/// <param name="DaysOnline">Days the job stays online (1 … <c>Jobs:MaxDaysOnline</c>); also how long its result is kept.</param>
/// <param name="Budget">The amount, greater than 0, with at most two decimals.</param>
/// <param name="Priority">normal (default) or high.</param>
/// <param name="TimeoutSeconds">How long processing may take; the service default when absent.</param>
/// <param name="CallbackUrl">An http(s) URL the result is posted to once the job is final (on a host of <c>Callbacks:AllowedHosts</c> when set).</param>
public sealed record CreateBudgetJobRequest(string? JobId, int? DaysOnline, decimal? Budget, string? Priority, int? TimeoutSeconds, string? CallbackUrl = null);

/// <summary>
/// POST /jobs/budget: a budget job, stored as queued (with its expiry) and published; answered as
/// <see cref="JobAdmission"/> says, so an accepted job is never lost. An <c>Idempotency-Key</c> makes it safe to send
/// again: the same key and request answer the job the first one made (a different request with the key is a 422).
/// </summary>
internal static class CreateBudgetJob
{
    public static void MapCreateBudgetJob(this RouteGroupBuilder group) =>
        group.MapPost("/budget", HandleAsync)
            .Validate<CreateBudgetJobRequest>()
            .WithName("CreateBudgetJob")
            .WithSummary("Queues a budget job: the budget distributed over the days online, exact to the cent.");

    private static async Task<Results<Accepted<JobResponse>, ProblemHttpResult>> HandleAsync(
        CreateBudgetJobRequest request,
        HttpContext httpContext,
        JobSubmitter submitter,
        IdempotencyKeys idempotencyKeys,
        IOptions<CapacityOptions> capacity,
        CancellationToken cancellationToken)
    {
        var claim = await idempotencyKeys.ClaimAsync(httpContext, "create-budget-job", request, request.JobId ?? JobIds.New(), cancellationToken);
        if (claim.Refusal is { } refusal)
        {
            return refusal;
        }

        var priority = WorkRequestRules.ParsePriority(request.Priority);
        BudgetDistribution.TryToCents(request.Budget!.Value, out var cents);
        var job = submitter.NewBudgetJob(claim.ResourceId, request.DaysOnline!.Value, cents, priority, request.TimeoutSeconds,
            callbackUrl: request.CallbackUrl, requestId: httpContext.TraceIdentifier, idempotencyKey: claim.KeyId);
        return await JobAdmission.SubmitAsync(job, submitter, httpContext, capacity.Value.RetryAfterSeconds, cancellationToken);
    }
}

internal sealed class CreateBudgetJobValidator : AbstractValidator<CreateBudgetJobRequest>
{
    public CreateBudgetJobValidator(IOptions<JobsOptions> options, IOptions<CallbackOptions> callbackOptions)
    {
        var limits = options.Value;
        RuleFor(r => r.JobId).MustBeAJobId();

        RuleFor(r => r.DaysOnline)
            .NotNull().WithMessage("'daysOnline' is required.")
            .InclusiveBetween(1, limits.MaxDaysOnline).WithMessage($"'daysOnline' must be between 1 and {limits.MaxDaysOnline}.");

        RuleFor(r => r.Budget)
            .NotNull().WithMessage("'budget' is required.")
            .Must(b => b is null || BudgetDistribution.TryToCents(b.Value, out _))
            .WithMessage($"'budget' must be greater than 0, at most {BudgetDistribution.MaxBudgetCents / 100}, with at most two decimals.");

        RuleFor(r => r.Priority).MustBeAPriority();

        RuleFor(r => r.TimeoutSeconds).MustBeATimeout(limits.MaxTimeoutSeconds);

        RuleFor(r => r.CallbackUrl).MustBeACallbackUrl(callbackOptions.Value);
    }
}
