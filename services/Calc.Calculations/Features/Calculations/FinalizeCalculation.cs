using Calc.Calculations.Contracts;
using Calc.Calculations.Domain;
using Calc.Calculations.Processing;
using Calc.Core.Callbacks;
using Calc.Core.Scheduling;
using Calc.Data;
using FastEndpoints;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Calc.Calculations.Features.Calculations;

/// <summary>
/// PUT /calculations/{id}/finalize: starts processing at once on a free slot (202), or refuses at once with 503 and
/// Retry-After when none is free for the calculation's priority; the calculation then stays building.
/// Finalizing is idempotent, so a repeated PUT (a client's retry, or the gateway's on another instance after the first
/// one stored <c>processing</c> and died) is not a failure: a calculation already processing answers 202 and a final
/// one 200, each with its current state. Only a building calculation is ever started.
/// </summary>
internal sealed class FinalizeCalculation(
    IDocumentRepository<Calculation> repository,
    WorkScheduler scheduler,
    CalculationProcessor processor,
    CallbackOutbox callbacks,
    CalculationsMetrics metrics,
    RecentCopies copies,
    IOptions<CapacityOptions> capacity)
    : EndpointWithoutRequest<Results<Accepted<CalculationResponse>, Ok<CalculationResponse>, ProblemHttpResult>>
{
    public override void Configure()
    {
        Put("/calculations/{id}/finalize");
        Description(b => b.WithName("FinalizeCalculation").WithTags("Calculations")
            .WithSummary("Finalizes a calculation and starts processing it (again: answers its current state)."));
    }

    public override async Task<Results<Accepted<CalculationResponse>, Ok<CalculationResponse>, ProblemHttpResult>> ExecuteAsync(CancellationToken ct)
    {
        var id = Route<string>("id")!;
        // From the copy this instance stored last, when it says building and a slot is free: the start is then the
        // only statement (a stale copy loses its write and the start is decided on a load, see RecentCopies). Every
        // other answer (404, already finalized, 503) is taken from a load below.
        if (copies.Take(id) is { Document.Status: CalculationStatus.Building } copy)
        {
            if (scheduler.TryAcquire(copy.Document.Priority) is { } free)
            {
                metrics.Admission(admitted: true, copy.Document.Priority);
                return await StartAsync(free, copy, ct);
            }

            // No slot: the answer comes from the load below, and the copy stays for the client's retry.
            copies.Keep(copy);
        }

        var stored = await repository.LoadAsync(id, ct);
        if (stored is null)
        {
            return Problems.NotFound(id);
        }

        if (stored.Document.Status != CalculationStatus.Building)
        {
            return await AlreadyFinalizedAsync(stored.Document, processor, callbacks, ct);
        }

        var slot = scheduler.TryAcquire(stored.Document.Priority);
        metrics.Admission(slot is not null, stored.Document.Priority);
        if (slot is null)
        {
            return Problems.NoCapacity(HttpContext, capacity.Value.RetryAfterSeconds);
        }

        return await StartAsync(slot, stored, ct);
    }

    private async Task<Results<Accepted<CalculationResponse>, Ok<CalculationResponse>, ProblemHttpResult>> StartAsync(
        WorkSlot slot, StoredDocument<Calculation> stored, CancellationToken ct)
    {
        // From the copy at hand: one versioned write, no second load.
        var id = stored.Id;
        var started = await processor.TryStartAsync(slot, stored, c => c.Status == CalculationStatus.Building, ct);
        if (started is not null)
        {
            return TypedResults.Accepted($"/calculations/{id}", started.ToResponse(liveProgress: 0));
        }

        // It changed between the load and the start: deleted, cancelled or finalized by a concurrent request.
        var now = await repository.LoadAsync(id, ct);
        return now is null ? Problems.NotFound(id) : await AlreadyFinalizedAsync(now.Document, processor, callbacks, ct);
    }

    // Finalized before (by this request's earlier attempt, or by another): its state as GET shows it.
    private static async Task<Results<Accepted<CalculationResponse>, Ok<CalculationResponse>, ProblemHttpResult>> AlreadyFinalizedAsync(
        Calculation calculation, CalculationProcessor processor, CallbackOutbox callbacks, CancellationToken cancellationToken)
    {
        var callback = calculation.CallbackUrl is null ? null : await callbacks.GetStatusAsync(calculation.Id, cancellationToken);
        var response = calculation.ToResponse(processor.LocalProgress(calculation.Id), callback: callback);
        return calculation.IsFinal
            ? TypedResults.Ok(response)
            : TypedResults.Accepted($"/calculations/{calculation.Id}", response);
    }
}
