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

/// <summary>POST /jobs/fetch: fetch data from a named provider and post <c>{requestId, data}</c> to a callback URL.</summary>
/// <param name="Provider">A provider name configured in <c>Jobs:Providers</c> (never a URL).</param>
/// <param name="CallbackUrl">An http(s) URL the data is posted to (on a host of <c>Callbacks:AllowedHosts</c> when set).</param>
/// <param name="JobId">The job's id (letters, digits, '-', '_', at most 64); generated when absent.</param>
/// <param name="Priority">normal (default) or high.</param>
/// <param name="TimeoutSeconds">How long the fetch may take, retries included; the service default when absent.</param>
public sealed record CreateFetchJobRequest(string? Provider, string? CallbackUrl, string? JobId, string? Priority, int? TimeoutSeconds);

/// <summary>
/// Seed 003's flow: the API stores and queues the job (202 with its id and the request id), a worker fetches from the
/// provider with retries, stores the data as the job's result, and the callback delivery posts it. The request id is
/// in every log line of the flow, in the queue message and in the callback. An <c>Idempotency-Key</c> makes it safe to
/// send again, as for budget jobs (<see cref="JobAdmission"/>).
/// </summary>
internal sealed class CreateFetchJob(JobSubmitter submitter, IdempotencyKeys idempotencyKeys, IOptions<CapacityOptions> capacity)
    : JsonBodyEndpoint<CreateFetchJobRequest, Results<Accepted<JobResponse>, ProblemHttpResult>>
{
    public override void Configure()
    {
        Post("/jobs/fetch");
        FromJsonBody();
        Description(b => b.WithName("CreateFetchJob").WithTags("Jobs")
            .WithSummary("Queues a fetch job: data from a named provider, delivered to callbackUrl.").ProducesValidationProblem());
    }

    public override async Task<Results<Accepted<JobResponse>, ProblemHttpResult>> ExecuteAsync(CreateFetchJobRequest request, CancellationToken ct)
    {
        var httpContext = HttpContext;
        var claim = await idempotencyKeys.ClaimAsync(httpContext, "create-fetch-job", request, request.JobId ?? JobIds.New(), ct);
        if (claim.Refusal is { } refusal)
        {
            return refusal;
        }

        var priority = WorkRequestRules.ParsePriority(request.Priority);
        var job = submitter.NewFetchJob(claim.ResourceId, request.Provider!, priority, request.TimeoutSeconds, request.CallbackUrl!, httpContext.TraceIdentifier,
            claim.KeyId);
        return await JobAdmission.SubmitAsync(job, submitter, httpContext, capacity.Value.RetryAfterSeconds, ct);
    }
}

internal sealed class CreateFetchJobValidator : Validator<CreateFetchJobRequest>
{
    // Limits are read at each validation, from the app the request came to (see CreateBudgetJobValidator).
    public CreateFetchJobValidator()
    {
        RuleFor(r => r.Provider).Custom((provider, context) =>
        {
            var providers = Limits.Providers;
            if (string.IsNullOrWhiteSpace(provider))
            {
                context.AddFailure("provider", "'provider' is required.");
            }
            else if (!providers.ContainsKey(provider))
            {
                context.AddFailure("provider", providers.Count == 0
                    ? $"'provider' '{provider}' is unknown: no providers are configured (Jobs:Providers)."
                    : $"'provider' '{provider}' is unknown; configured providers: {string.Join(", ", providers.Keys.Order(StringComparer.Ordinal))}.");
            }
        });

        RuleFor(r => r.CallbackUrl).MustBeACallbackUrl(() => Resolve<IOptions<CallbackOptions>>().Value, required: "'callbackUrl' is required: the fetched data is posted there.");

        RuleFor(r => r.JobId).MustBeAJobId();

        RuleFor(r => r.Priority).MustBeAPriority();

        RuleFor(r => r.TimeoutSeconds).MustBeATimeout(() => Limits.MaxTimeoutSeconds);
    }

    private JobsOptions Limits => Resolve<IOptions<JobsOptions>>().Value;
}
