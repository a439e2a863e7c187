using System.Diagnostics.Metrics;
using Calc.Gateway.Balancing;
using Calc.Gateway.Registry;
using Polly.CircuitBreaker;

namespace Calc.Gateway;

/// <summary>
/// The gateway's own metrics (meter <c>Calc.Gateway</c>), observable instruments over the counters /status shows:
/// read at each scrape, nothing added to the request path.
/// </summary>
internal sealed class GatewayMetrics : IHostedService, IDisposable
{
    private readonly Meter _meter;

    public GatewayMetrics(IMeterFactory meters, ServiceRegistry registry, FastLane.FastLaneServices fastLane)
    {
        _meter = meters.Create(GatewayTelemetry.Name);
        _meter.CreateObservableGauge("calc.gateway.registry.instances", () => Each(registry, _ => 1L), "{instance}", "Instances registered per service.");
        _meter.CreateObservableGauge("calc.gateway.registry.heartbeat_age", () => EachInstance(registry, i => (DateTimeOffset.UtcNow - i.Entry.LastHeartbeat).TotalSeconds), "s", "Time since each instance's last heartbeat.");
        _meter.CreateObservableCounter("calc.gateway.forwards", () => EachInstance(registry, i => i.Forwarded), "{request}", "Attempts sent to each instance.");
        _meter.CreateObservableCounter("calc.gateway.forward_failures", () => EachInstance(registry, i => i.Failures), "{request}", "Failed attempts per instance.");
        _meter.CreateObservableGauge("calc.gateway.in_flight", () => EachInstance(registry, i => (long)i.InFlight), "{request}", "Requests under way per instance.");
        _meter.CreateObservableGauge("calc.gateway.breaker.state", () => EachInstance(registry, i => i.Circuit switch
        {
            CircuitState.Closed => 0L,
            CircuitState.HalfOpen => 1L,
            _ => 2L,
        }), "{state}", "Each instance's circuit breaker: 0 closed, 1 half open, 2 open or isolated.");
        _meter.CreateObservableCounter("calc.gateway.fast_lane.requests", () =>
        {
            var (_, forwarded, handedOff, refused) = fastLane.Totals();
            return new[]
            {
                new Measurement<long>(forwarded, new KeyValuePair<string, object?>("calc.outcome", "forwarded")),
                new Measurement<long>(handedOff, new KeyValuePair<string, object?>("calc.outcome", "handed_off")),
                new Measurement<long>(refused, new KeyValuePair<string, object?>("calc.outcome", "refused")),
            };
        }, "{request}", "Requests the fast lane forwarded, handed to Kestrel, or refused.");
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _meter.Dispose();

    private static IEnumerable<Measurement<long>> Each(ServiceRegistry registry, Func<UpstreamInstance, long> value) =>
        registry.Services.Select(s => new Measurement<long>(
            (registry.Find(s.Name)?.Instances ?? []).Sum(value), new KeyValuePair<string, object?>("calc.service", s.Name)));

    private static IEnumerable<Measurement<T>> EachInstance<T>(ServiceRegistry registry, Func<UpstreamInstance, T> value)
        where T : struct =>
        registry.Services.SelectMany(s => (registry.Find(s.Name)?.Instances ?? []).Select(i => new Measurement<T>(
            value(i),
            new KeyValuePair<string, object?>("calc.service", s.Name),
            new KeyValuePair<string, object?>("calc.instance_id", i.Entry.InstanceId))));
}
