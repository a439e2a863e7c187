using Calc.Core.Hosting;
using Calc.Core.Idempotency;
using Calc.Jobs.Domain;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Calc.Jobs.Features.Jobs;

/// <summary>
/// How a single new job is answered, the same for every kind: refused at once (503) when its priority has no place left
/// in the queue (no unbounded queue; high priority keeps some places of its own), else stored and queued: 202 once the
/// queue has confirmed it, 409 for a taken id, 503 when the queue did not take it (then nothing stays stored).
/// A job made under an <c>Idempotency-Key</c> whose job is stored already (an earlier request with that key and
/// request made it, or a concurrent one just did) is answered as the first request was, 202 with the job as it is now,
/// marked <c>Idempotent-Replayed: true</c>; it is never queued twice.
/// </summary>
internal static class JobAdmission
{
    public static async Task<Results<Accepted<JobResponse>, ProblemHttpResult>> SubmitAsync(
        Job job, JobSubmitter submitter, HttpContext httpContext, int retryAfterSeconds, CancellationToken cancellationToken)
    {
        if (job.IdempotencyKey is not null && await submitter.LoadAsync(job.Id, cancellationToken) is { } earlier)
        {
            return Replay(earlier, job, httpContext);
        }

        if (await submitter.FreePlacesAsync(job.Priority, cancellationToken) <= 0)
        {
            return ProblemResults.ServiceUnavailable(httpContext, retryAfterSeconds, "No capacity",
                "The queue holds as many jobs as this priority may queue. Send the job again later.");
        }

        switch (await submitter.SubmitAsync(job, cancellationToken))
        {
            case JobSubmitter.Outcome.Accepted:
                return TypedResults.Accepted($"/jobs/{job.Id}", job.ToResponse());
            case JobSubmitter.Outcome.AlreadyExists:
                var stored = job.IdempotencyKey is null ? null : await submitter.LoadAsync(job.Id, cancellationToken);
                return stored is null ? Problems.AlreadyExists(job.Id) : Replay(stored, job, httpContext);
            default:
                return ProblemResults.ServiceUnavailable(httpContext, retryAfterSeconds, "Queue unavailable",
                    "The job queue cannot take jobs now; nothing was stored. Send the job again later.");
        }
    }

    // A stored job with the id is this request's only when the same key made it; otherwise the client's jobId is taken.
    private static Results<Accepted<JobResponse>, ProblemHttpResult> Replay(Job stored, Job requested, HttpContext httpContext)
    {
        if (stored.IdempotencyKey != requested.IdempotencyKey)
        {
            return Problems.AlreadyExists(requested.Id);
        }

        IdempotencyKeys.MarkReplayed(httpContext);
        return TypedResults.Accepted($"/jobs/{stored.Id}", stored.ToResponse());
    }
}
