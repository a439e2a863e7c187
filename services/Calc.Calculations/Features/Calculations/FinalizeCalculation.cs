using Calc.Calculations.Domain;
using Calc.Calculations.Processing;
using Calc.Contracts;
using Calc.Data;
using Calc.Scheduling;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Calc.Calculations.Features.Calculations;

/// <summary>
/// PUT /calculations/{id}/finalize: starts processing at once on a free slot (202), or refuses at once with 503 and
/// Retry-After when none is free for the calculation's priority; the calculation then stays building.
/// </summary>
internal static class FinalizeCalculation
{
    public static void MapFinalizeCalculation(this RouteGroupBuilder group) =>
        group.MapPut("/{id}/finalize", HandleAsync)
            .WithName("FinalizeCalculation")
            .WithSummary("Finalizes a calculation and starts processing it.");

    private static async Task<Results<Accepted<CalculationResponse>, ProblemHttpResult>> HandleAsync(
        string id,
        HttpContext httpContext,
        IDocumentRepository<Calculation> repository,
        WorkScheduler scheduler,
        CalculationProcessor processor,
        IOptions<CapacityOptions> capacity,
        CancellationToken cancellationToken)
    {
        var stored = await repository.LoadAsync(id, cancellationToken);
        if (stored is null)
        {
            return Problems.NotFound(id);
        }

        if (stored.Document.Status != CalculationStatus.Building)
        {
            return NotBuilding(stored.Document);
        }

        var slot = scheduler.TryAcquire(stored.Document.Priority);
        if (slot is null)
        {
            return Problems.NoCapacity(httpContext, capacity.Value.RetryAfterSeconds);
        }

        var started = await processor.TryStartAsync(slot, id, c => c.Status == CalculationStatus.Building, cancellationToken);
        if (started is not null)
        {
            return TypedResults.Accepted($"/calculations/{id}", started.ToResponse(liveProgress: 0));
        }

        // It changed between the load and the start: deleted, cancelled or finalized by a concurrent request.
        var now = await repository.LoadAsync(id, cancellationToken);
        return now is null ? Problems.NotFound(id) : NotBuilding(now.Document);
    }

    private static ProblemHttpResult NotBuilding(Calculation calculation) => Problems.WrongState(
        $"The calculation is {WireNames<CalculationStatus>.Of(calculation.Status)}; only a building calculation can be finalized.");
}
