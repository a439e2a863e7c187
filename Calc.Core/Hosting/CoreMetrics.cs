using System.Diagnostics.Metrics;
using Calc.Core.Scheduling;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Calc.Core.Hosting;

/// <summary>
/// The shared parts' metrics (meter <c>Calc.Scheduling</c>), observable instruments over the scheduler's and lanes'
/// snapshots, read at each scrape. The scheduler and lanes are looked up at observation time: apps without them
/// (the gateway) report nothing.
/// </summary>
internal sealed class CoreMetrics : IHostedService, IDisposable
{
    private readonly Meter _meter;

    public CoreMetrics(IMeterFactory meters, IServiceProvider services)
    {
        _meter = meters.Create(WorkScheduler.MeterName);
        _meter.CreateObservableGauge("calc.scheduler.slots", () => services.GetService<WorkScheduler>() is { } s
            ? [new Measurement<long>(s.Snapshot().Slots)]
            : Array.Empty<Measurement<long>>(), "{slot}", "Work slots of this instance.");
        _meter.CreateObservableGauge("calc.scheduler.processing", () =>
        {
            if (services.GetService<WorkScheduler>() is not { } scheduler)
            {
                return [];
            }

            var snapshot = scheduler.Snapshot();
            return new[]
            {
                new Measurement<long>(snapshot.Processing - snapshot.ProcessingHigh, new KeyValuePair<string, object?>("calc.priority", "normal")),
                new Measurement<long>(snapshot.ProcessingHigh, new KeyValuePair<string, object?>("calc.priority", "high")),
            };
        }, "{task}", "Tasks holding a slot, by priority.");
        _meter.CreateObservableGauge("calc.lane.in_use", () => Lanes(services, l => l.InUse), "{task}", "Places taken in each work lane (cpu, io).");
        _meter.CreateObservableGauge("calc.lane.waiting", () => Lanes(services, l => l.Waiting), "{task}", "Tasks waiting to enter each work lane.");
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _meter.Dispose();

    private static IEnumerable<Measurement<long>> Lanes(IServiceProvider services, Func<LaneSnapshot, int> value) =>
        services.GetService<WorkLanes>() is { } lanes
            ?
            [
                new Measurement<long>(value(lanes.Cpu.Snapshot()), new KeyValuePair<string, object?>("calc.lane", "cpu")),
                new Measurement<long>(value(lanes.Io.Snapshot()), new KeyValuePair<string, object?>("calc.lane", "io")),
            ]
            : [];
}
