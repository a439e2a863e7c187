using Calc.Hosting;
using Calc.Jobs.Domain;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Calc.Jobs.Features.Jobs;

/// <summary>
/// How a single new job is answered, the same for every kind: refused at once (503) when its priority has no place left
/// in the queue (no unbounded queue; high priority keeps some places of its own), else stored and queued: 202 once the
/// queue has confirmed it, 409 for a taken id, 503 when the queue did not take it (then nothing stays stored).
/// </summary>
internal static class JobAdmission
{
    public static async Task<Results<Accepted<JobResponse>, ProblemHttpResult>> SubmitAsync(
        Job job, JobSubmitter submitter, HttpContext httpContext, int retryAfterSeconds, CancellationToken cancellationToken)
    {
        if (await submitter.FreePlacesAsync(job.Priority, cancellationToken) <= 0)
        {
            return ProblemResults.ServiceUnavailable(httpContext, retryAfterSeconds, "No capacity",
                "The queue holds as many jobs as this priority may queue. Send the job again later.");
        }

        return await submitter.SubmitAsync(job, cancellationToken) switch
        {
            JobSubmitter.Outcome.Accepted => TypedResults.Accepted($"/jobs/{job.Id}", job.ToResponse()),
            JobSubmitter.Outcome.AlreadyExists => Problems.AlreadyExists(job.Id),
            _ => ProblemResults.ServiceUnavailable(httpContext, retryAfterSeconds, "Queue unavailable",
                "The job queue cannot take jobs now; nothing was stored. Send the job again later."),
        };
    }
}
