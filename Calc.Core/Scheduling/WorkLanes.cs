using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Calc.Core.Scheduling;

/// <summary>
/// The two lanes of a service instance: <see cref="Cpu"/> for computing (bounded by the cores) and <see cref="Io"/>
/// for waiting on other machines (fetches, callback deliveries). Keeping them apart means a burst of slow HTTP calls
/// never takes the cores from computations, and a burst of computations never holds up deliveries.
/// </summary>
public sealed class WorkLanes : IDisposable
{
    /// <summary>Creates the lanes with the configured bounds.</summary>
    /// <param name="options">The <c>Lanes</c> section.</param>
    /// <param name="meters">Where <c>calc.lane.wait.duration</c> is recorded (none when null).</param>
    public WorkLanes(IOptions<LaneOptions> options, IMeterFactory? meters = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var waitTime = meters?.Create(WorkScheduler.MeterName).CreateHistogram<double>(
            "calc.lane.wait.duration", "s", "Time admitted work waited to enter a work lane (cpu, io): the queue behind the scheduler's slots.");
        Cpu = new WorkLane("cpu", options.Value.Cpu, waitTime);
        Io = new WorkLane("io", options.Value.Io, waitTime);
    }

    /// <summary>CPU-bound work: at most one piece per core (by default).</summary>
    public WorkLane Cpu { get; }

    /// <summary>I/O-bound work: outgoing HTTP calls.</summary>
    public WorkLane Io { get; }

    /// <summary>Both lanes' use now.</summary>
    public LanesSnapshot Snapshot() => new(Cpu.Snapshot(), Io.Snapshot());

    /// <inheritdoc />
    public void Dispose()
    {
        Cpu.Dispose();
        Io.Dispose();
    }
}

/// <summary>Both lanes at one moment, as <c>GET /status</c> shows them.</summary>
/// <param name="Cpu">The CPU lane.</param>
/// <param name="Io">The I/O lane.</param>
public sealed record LanesSnapshot(LaneSnapshot Cpu, LaneSnapshot Io);

/// <summary>Registers <see cref="WorkLanes"/>.</summary>
public static class WorkLanesServiceCollectionExtensions
{
    /// <summary>Registers <see cref="WorkLanes"/> (once) with its options from the <c>Lanes</c> section, validated on start.</summary>
    /// <param name="services">The service collection.</param>
    public static IServiceCollection AddWorkLanes(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(d => d.ServiceType == typeof(WorkLanes)))
        {
            return services;
        }

        services.AddOptions<LaneOptions>().BindConfiguration(LaneOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<WorkLanes>();
        return services;
    }
}
