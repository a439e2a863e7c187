using Calc.Calculations.Contracts;
using Calc.Calculations.Domain;
using Calc.Core.Callbacks;
using Calc.Core.Contracts;
using Calc.Core.Scheduling;
using Calc.Data;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Calc.Calculations.Features.Calculations;

/// <summary>
/// DELETE /calculations/{id}: cancels a building or processing calculation. Processing stops at once when it runs
/// here, and within a lease renewal interval when it runs on another instance.
/// </summary>
internal static class CancelCalculation
{
    public static void MapCancelCalculation(this RouteGroupBuilder group) =>
        group.MapDelete("/{id}", HandleAsync)
            .WithName("CancelCalculation")
            .WithSummary("Cancels a calculation that has not finished.");

    private static async Task<Results<Ok<CalculationResponse>, ProblemHttpResult>> HandleAsync(
        string id,
        IDocumentRepository<Calculation> repository,
        WorkScheduler scheduler,
        CallbackOutbox callbacks,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var result = await repository.ChangeAsync(
            id,
            c => c.IsFinal ? null : c.Finish(CalculationStatus.Cancelled, time.GetUtcNow(), "Cancelled by a user."),
            cancellationToken);
        if (result is null)
        {
            return Problems.NotFound(id);
        }

        if (!result.Changed)
        {
            return Problems.WrongState(
                $"The calculation is already {WireNames<CalculationStatus>.Of(result.Document.Status)}; only an unfinished one can be cancelled.");
        }

        scheduler.Stop(id, StopReason.Cancelled);
        if (result.Document.CallbackUrl is not null)
        {
            await callbacks.ArmAsync(id, CancellationToken.None);
        }

        return TypedResults.Ok(result.Document.ToResponse());
    }
}
