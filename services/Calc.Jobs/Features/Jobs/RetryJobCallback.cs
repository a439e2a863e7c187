using Calc.Core.Callbacks;
using Calc.Core.Scheduling;
using Calc.Data;
using Calc.Jobs.Domain;

namespace Calc.Jobs.Features.Jobs;

/// <summary>POST /jobs/{id}/callback/retry: delivers a dead-lettered callback again (the slice every service shares).</summary>
internal sealed class RetryJobCallback(IDocumentRepository<Job> repository, CallbackOutbox callbacks)
    : CallbackRetryEndpoint<Job>(repository, callbacks)
{
    protected override WorkKind Kind => Problems.Kind;
}
