using Calc.Core.Callbacks;
using Calc.Data;
using Calc.Jobs.Domain;
using Calc.Jobs.Features.Jobs;

namespace Calc.Jobs.Processing;

/// <summary>
/// The body posted to a job's callback URL once it is final: the request id and the data (seed 003's
/// <c>{requestId, data}</c>: a fetch job's data, a budget job's distribution), with the job's id, kind and status.
/// </summary>
/// <param name="RequestId">The id of the request that created the job.</param>
/// <param name="Data">A fetch job's data, or a budget job's input and distribution; null when it did not finish.</param>
/// <param name="Id">The job id.</param>
/// <param name="Kind">budget or fetch.</param>
/// <param name="Status">done, failed, timed_out or cancelled.</param>
/// <param name="Error">Why it did not finish.</param>
/// <param name="FinishedAt">When it reached its final status.</param>
public sealed record JobCallback(string? RequestId, object? Data, string Id, string Kind, JobStatus Status, string? Error, DateTimeOffset? FinishedAt);

/// <summary>Builds a job's callback body from its stored state, at each delivery attempt.</summary>
internal sealed class JobCallbackSource(IDocumentRepository<Job> repository)
    : DocumentCallbackSource<Job, JobCallback>(repository)
{
    protected override JobCallback? FinalBody(Job job)
    {
        if (!job.IsFinal)
        {
            return null;
        }

        object? data = job.Kind == Job.FetchKind ? job.Data : job.ToResponse().Budget;
        return new JobCallback(job.RequestId, data, job.Id, job.Kind, job.Status, job.Error, job.FinishedAt);
    }
}
