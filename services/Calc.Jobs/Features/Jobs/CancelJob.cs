using Calc.Core.Callbacks;
using Calc.Core.Scheduling;
using Calc.Data;
using Calc.Jobs.Domain;

namespace Calc.Jobs.Features.Jobs;

/// <summary>
/// DELETE /jobs/{id}: cancels a queued or processing job (the slice every service shares). A queued job's message is
/// acknowledged without work when a worker gets it; a job processing here stops at once; one processing on another
/// worker cannot record its result.
/// </summary>
internal sealed class CancelJob(IDocumentRepository<Job> repository, WorkScheduler scheduler, CallbackOutbox callbacks, TimeProvider time)
    : CancelWorkEndpoint<Job, JobResponse>(repository, scheduler, callbacks, time)
{
    protected override WorkKind Kind => Problems.Kind;

    protected override JobResponse ToResponse(Job work) => work.ToResponse();
}
