using Calc.Calculations.Contracts;
using Calc.Calculations.Domain;
using Calc.Core.Contracts;
using Calc.Core.Hosting;
using Calc.Core.Scheduling;
using Calc.Data;
using Calc.Numerics;
using FastEndpoints;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Calc.Calculations.Features.Status;

/// <summary>GET /status: this instance's capacity, load and lanes, and how many calculations are in each status.</summary>
/// <param name="Service">The service name.</param>
/// <param name="InstanceId">This instance.</param>
/// <param name="Capacity">Slots, reserved slots and what is processing here now.</param>
/// <param name="Queued">Tasks waiting for a slot here: always 0, a task without a slot is refused with 503, not queued.</param>
/// <param name="Calculations">Calculations per status, across all instances sharing the database.</param>
/// <param name="MathEngine">The big-number engine in use (GMP or managed).</param>
/// <param name="Lanes">The CPU lane (computations, bounded by the cores) and the I/O lane (callback deliveries): bound, in use, waiting.</param>
public sealed record StatusResponse(
    string Service,
    string InstanceId,
    CapacitySnapshot Capacity,
    int Queued,
    IReadOnlyDictionary<string, long> Calculations,
    string MathEngine,
    LanesSnapshot Lanes);

internal sealed class GetStatus(IDocumentRepository<Calculation> repository, WorkScheduler scheduler, WorkLanes lanes, ServiceIdentity identity)
    : EndpointWithoutRequest<Ok<StatusResponse>>
{
    public override void Configure()
    {
        Get("/status");
        Description(b => b.WithName("GetStatus").WithTags("Status").WithSummary("Capacity, load and calculations per status."));
    }

    public override async Task<Ok<StatusResponse>> ExecuteAsync(CancellationToken ct)
    {
        var counts = await repository.CountByIndexAsync(ct);
        var all = WireNames<CalculationStatus>.WithCounts(counts);
        return TypedResults.Ok(new StatusResponse(identity.ServiceName, identity.InstanceId, scheduler.Snapshot(), 0, all, BigMath.EngineDescription, lanes.Snapshot()));
    }
}
