using Calc.Calculations.Contracts;
using Calc.Calculations.Domain;
using Calc.Core.Callbacks;
using Calc.Core.Contracts;
using Calc.Core.Scheduling;
using Calc.Data;

namespace Calc.Calculations.Features.Calculations;

/// <summary>
/// DELETE /calculations/{id}: cancels a building or processing calculation (the slice every service shares). Processing
/// stops at once when it runs here, and within a lease renewal interval when it runs on another instance.
/// </summary>
internal sealed class CancelCalculation(IDocumentRepository<Calculation> repository, WorkScheduler scheduler, CallbackOutbox callbacks, TimeProvider time)
    : CancelWorkEndpoint<Calculation, CalculationResponse>(repository, scheduler, callbacks, time)
{
    protected override WorkKind Kind => Problems.Kind;

    protected override CalculationResponse ToResponse(Calculation work) => work.ToResponse();
}
