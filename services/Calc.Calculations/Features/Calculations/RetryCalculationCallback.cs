using Calc.Calculations.Domain;
using Calc.Core.Callbacks;
using Calc.Core.Scheduling;
using Calc.Data;

namespace Calc.Calculations.Features.Calculations;

/// <summary>POST /calculations/{id}/callback/retry: delivers a dead-lettered callback again (the slice every service shares).</summary>
internal sealed class RetryCalculationCallback(IDocumentRepository<Calculation> repository, CallbackOutbox callbacks)
    : CallbackRetryEndpoint<Calculation>(repository, callbacks)
{
    protected override WorkKind Kind => Problems.Kind;
}
