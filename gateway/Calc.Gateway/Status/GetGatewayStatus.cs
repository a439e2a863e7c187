using Calc.Gateway.Balancing;
using Calc.Gateway.Registry;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Calc.Gateway.Status;

/// <summary>One instance as the gateway sees it.</summary>
/// <param name="InstanceId">The instance id.</param>
/// <param name="BaseUrl">Where the gateway reaches it.</param>
/// <param name="Capacity">Its slots (last report).</param>
/// <param name="Processing">Tasks processing there (last report: heartbeat or load header).</param>
/// <param name="Load">Processing divided by capacity.</param>
/// <param name="InFlight">Requests this gateway has open to it now.</param>
/// <param name="Circuit">closed, open, half_open or isolated.</param>
/// <param name="CircuitOpenings">How many times its breaker opened.</param>
/// <param name="Forwarded">Attempts this gateway sent it.</param>
/// <param name="Failures">Attempts that failed or timed out.</param>
/// <param name="LastHeartbeat">When its last heartbeat reached any gateway.</param>
public sealed record InstanceStatus(
    string InstanceId, Uri BaseUrl, int Capacity, int Processing, double Load, int InFlight, string Circuit,
    int CircuitOpenings, long Forwarded, long Failures, DateTimeOffset LastHeartbeat);

/// <summary>Totals over a service's instances.</summary>
public sealed record ServiceTotals(int Instances, int Available, int Capacity, int Processing, double Load, int InFlight);

/// <summary>One service: its routes, instances and totals.</summary>
public sealed record ServiceStatus(string Service, IReadOnlyList<string> Routes, IReadOnlyList<InstanceStatus> Instances, ServiceTotals Totals);

/// <summary>GET /status on the gateway.</summary>
/// <param name="Registry"><c>cache</c> when the last read of the registry succeeded, <c>last_known</c> while the cache is unreachable.</param>
/// <param name="LastRefresh">When the registry was last read from the cache.</param>
/// <param name="Services">Every routed or registered service.</param>
/// <param name="FastLane">The fast lane's counters since the gateway started.</param>
public sealed record GatewayStatusResponse(string Registry, DateTimeOffset? LastRefresh, IReadOnlyList<ServiceStatus> Services, FastLaneStatus FastLane);

/// <summary>The fast lane (<c>Performance:FastLane</c>): plain forwards served from the gateway's own event loops.</summary>
/// <param name="Enabled">Whether it serves the gateway's connections (Linux x64 and not switched off).</param>
/// <param name="Forwarded">Requests it answered from an instance.</param>
/// <param name="HandedOff">Connections it gave to Kestrel's full forwarding path (requests it does not take, failures before the answer).</param>
/// <param name="Refused">Requests it answered 400 and closed the connection of, for a head a strict parser refuses (gateway README: Refused heads).</param>
public sealed record FastLaneStatus(bool Enabled, long Forwarded, long HandedOff, long Refused);

internal static class GetGatewayStatus
{
    public static void MapGatewayStatus(this IEndpointRouteBuilder app)
    {
        var status = app.MapGroup("/status").WithTags("Status");
        status.MapGet("/", (ServiceRegistry registry, IOptions<List<GatewayRoute>> routes, FastLane.FastLaneServices fastLane) =>
                TypedResults.Ok(Describe(registry, routes.Value, null, fastLane)))
            .WithName("GetGatewayStatus")
            .WithSummary("Every service and instance: load, capacity, processing, circuit state, last heartbeat; totals per service.");
        status.MapGet("/{service}", Results<Ok<ServiceStatus>, NotFound> (string service, ServiceRegistry registry, IOptions<List<GatewayRoute>> routes) =>
                Describe(registry, routes.Value, service, null).Services is [var one] ? TypedResults.Ok(one) : TypedResults.NotFound())
            .WithName("GetServiceStatus")
            .WithSummary("One service's instances and totals, as in GET /status.");
    }

    private static GatewayStatusResponse Describe(ServiceRegistry registry, List<GatewayRoute> routes, string? only, FastLane.FastLaneServices? fastLane)
    {
        var names = routes.Select(r => r.Service).Concat(registry.Services.Select(s => s.Name))
            .Distinct(StringComparer.Ordinal)
            .Where(n => only is null || n == only)
            .Order(StringComparer.Ordinal);
        var services = names.Select(name =>
        {
            var instances = registry.Find(name)?.Instances ?? [];
            var described = instances.Select(Describe).ToList();
            var capacity = described.Sum(i => i.Capacity);
            var processing = described.Sum(i => i.Processing);
            var totals = new ServiceTotals(described.Count, instances.Count(i => i.IsAvailable), capacity, processing,
                capacity == 0 ? 0 : Math.Round((double)processing / capacity, 3), described.Sum(i => i.InFlight));
            return new ServiceStatus(name, [.. routes.Where(r => r.Service == name).Select(r => r.Prefix)], described, totals);
        }).ToList();
        var (enabled, forwarded, handedOff, refused) = fastLane?.Totals() ?? default;
        return new GatewayStatusResponse(registry.StoreAvailable ? "cache" : "last_known", registry.LastRefresh, services, new FastLaneStatus(enabled, forwarded, handedOff, refused));
    }

    private static InstanceStatus Describe(UpstreamInstance instance)
    {
        var load = instance.Load;
        return new InstanceStatus(instance.Entry.InstanceId, instance.Entry.BaseUrl, load.Capacity, load.Processing, Math.Round(load.Load, 3),
            instance.InFlight, CircuitName(instance.Circuit), instance.Openings, instance.Forwarded, instance.Failures, instance.Entry.LastHeartbeat);
    }

    private static string CircuitName(Polly.CircuitBreaker.CircuitState state) => state switch
    {
        Polly.CircuitBreaker.CircuitState.Closed => "closed",
        Polly.CircuitBreaker.CircuitState.Open => "open",
        Polly.CircuitBreaker.CircuitState.HalfOpen => "half_open",
        _ => "isolated",
    };
}
