using Calc.Core.Contracts;
using Calc.Core.Hosting;
using Calc.Core.Scheduling;
using Calc.Data;
using Calc.Jobs.Domain;
using Calc.Jobs.Queueing;
using FastEndpoints;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Calc.Jobs.Features.Status;

/// <summary>GET /status: this instance's role, capacity and load, the queue's depth, and jobs per status.</summary>
/// <param name="Service">The service name.</param>
/// <param name="InstanceId">This instance.</param>
/// <param name="Role">all, api or worker.</param>
/// <param name="Capacity">Worker slots, reserved slots and what is processing here now.</param>
/// <param name="Queue">The job queue: provider, name, messages waiting and parked (null while it cannot be reached).</param>
/// <param name="Jobs">Jobs per status, across all instances sharing the database.</param>
/// <param name="Lanes">This process's CPU lane (budget computations, bounded by the cores) and I/O lane (fetches, callback deliveries): bound, in use, waiting.</param>
public sealed record StatusResponse(
    string Service,
    string InstanceId,
    string Role,
    CapacitySnapshot Capacity,
    QueueStatus? Queue,
    IReadOnlyDictionary<string, long> Jobs,
    LanesSnapshot Lanes);

/// <summary>The job queue as seen from this instance.</summary>
/// <param name="Provider">inprocess or rabbitmq.</param>
/// <param name="Name">The queue name.</param>
/// <param name="Ready">Messages waiting for a worker.</param>
/// <param name="Parked">Poison messages set aside.</param>
public sealed record QueueStatus(string Provider, string Name, long Ready, long Parked);

internal sealed class GetStatus(
    IDocumentRepository<Job> repository,
    WorkScheduler scheduler,
    WorkLanes lanes,
    IJobQueue queue,
    IOptions<QueueOptions> queueOptions,
    IOptions<JobsOptions> options,
    ServiceIdentity identity,
    ServiceRole role)
    : EndpointWithoutRequest<Ok<StatusResponse>>
{
    public override void Configure()
    {
        Get("/status");
        Description(b => b.WithName("GetStatus").WithTags("Status").WithSummary("Role, capacity, load, queue depth and jobs per status."));
    }

    public override async Task<Ok<StatusResponse>> ExecuteAsync(CancellationToken ct)
    {
        var counts = await repository.CountByIndexAsync(ct);
        var all = WireNames<JobStatus>.WithCounts(counts);
        QueueStatus? queueStatus = null;
        try
        {
            var depth = await queue.GetDepthAsync(options.Value.QueueName, ct);
            queueStatus = new QueueStatus(queueOptions.Value.Provider, options.Value.QueueName, depth.Ready, depth.Parked);
        }
        catch (QueueUnavailableException)
        {
            // Reported as null: /status answers even while the broker is away.
        }

        return TypedResults.Ok(new StatusResponse(identity.ServiceName, identity.InstanceId, role.Name, scheduler.Snapshot(), queueStatus, all, lanes.Snapshot()));
    }
}
