using Calc.Core.Callbacks;
using Calc.Core.Contracts;
using Calc.Core.Hosting;
using Calc.Core.Idempotency;
using Calc.Core.Scheduling;
using Calc.Core.Validation;
using Calc.Jobs.Domain;
using FastEndpoints;
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
internal sealed class CreateBudgetJob(JobSubmitter submitter, IdempotencyKeys idempotencyKeys, IOptions<CapacityOptions> capacity)
    : JsonBodyEndpoint<CreateBudgetJobRequest, Results<Accepted<JobResponse>, ProblemHttpResult>>
{
    public override void Configure()
    {
        Post("/jobs/budget");
        FromJsonBody();
        Description(b => b.WithName("CreateBudgetJob").WithTags("Jobs")
            .WithSummary("Queues a budget job: the budget distributed over the days online, exact to the cent.").ProducesValidationProblem());
    }

    public override async Task<Results<Accepted<JobResponse>, ProblemHttpResult>> ExecuteAsync(CreateBudgetJobRequest request, CancellationToken ct)
    {
        var httpContext = HttpContext;
        var claim = await idempotencyKeys.ClaimAsync(httpContext, "create-budget-job", request, request.JobId ?? JobIds.New(), ct);
        if (claim.Refusal is { } refusal)
        {
            return refusal;
        }

        var priority = WorkRequestRules.ParsePriority(request.Priority);
        BudgetDistribution.TryToCents(request.Budget!.Value, out var cents);
        var job = submitter.NewBudgetJob(claim.ResourceId, request.DaysOnline!.Value, cents, priority, request.TimeoutSeconds,
            callbackUrl: request.CallbackUrl, requestId: httpContext.TraceIdentifier, idempotencyKey: claim.KeyId);
        return await JobAdmission.SubmitAsync(job, submitter, httpContext, capacity.Value.RetryAfterSeconds, ct);
    }
}

internal sealed class CreateBudgetJobValidator : Validator<CreateBudgetJobRequest>
{
    // Limits are read at each validation, from the app the request came to: FastEndpoints builds one validator for
    // every app in the process (tests host several, each with its own configuration).
    public CreateBudgetJobValidator()
    {
        RuleFor(r => r.JobId).MustBeAJobId();

        RuleFor(r => r.DaysOnline).Custom((days, context) =>
        {
            var max = Limits.MaxDaysOnline;
            if (days is null)
            {
                context.AddFailure("daysOnline", "'daysOnline' is required.");
            }
            else if (days < 1 || days > max)
            {
                context.AddFailure("daysOnline", $"'daysOnline' must be between 1 and {max}.");
            }
        });

        RuleFor(r => r.Budget)
            .NotNull().WithMessage("'budget' is required.")
            .Must(b => b is null || BudgetDistribution.TryToCents(b.Value, out _))
            .WithMessage($"'budget' must be greater than 0, at most {BudgetDistribution.MaxBudgetCents / 100}, with at most two decimals.");

        RuleFor(r => r.Priority).MustBeAPriority();

        RuleFor(r => r.TimeoutSeconds).MustBeATimeout(() => Limits.MaxTimeoutSeconds);

        RuleFor(r => r.CallbackUrl).MustBeACallbackUrl(() => Resolve<IOptions<CallbackOptions>>().Value);
    }

    private JobsOptions Limits => Resolve<IOptions<JobsOptions>>().Value;
}
