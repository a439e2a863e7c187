using System.Text;
using Calc.Gateway.Balancing;
using Calc.Gateway.Limits;
using Calc.Gateway.Registry;
using Microsoft.Extensions.Options;

namespace Calc.Gateway.FastLane;

/// <summary>What the fast lane's connections share: the routes, registry, balancer, limits and the way to Kestrel.</summary>
internal sealed class FastLaneServices(
    IOptions<List<GatewayRoute>> routes,
    ServiceRegistry registry,
    LoadBalancer balancer,
    ClientRateLimiting rateLimiting,
    IOptions<ResilienceOptions> resilience,
    IOptions<LimitsOptions> limits,
    ILogger<FastLaneServices> logger)
{
    /// <summary>A request head larger than this goes to Kestrel (which has its own limits).</summary>
    public const int MaxHeadBytes = RequestHeadParser.MaxHeadBytes;

    private readonly (byte[] Prefix, string Service)[] _routes =
        [.. routes.Value.Select(route => (Encoding.ASCII.GetBytes(route.Prefix), route.Service))];

    public ServiceRegistry Registry { get; } = registry;

    public LoadBalancer Balancer { get; } = balancer;

    public ClientRateLimiting RateLimiting { get; } = rateLimiting;

    public ILogger Logger { get; } = logger;

    public int MaxConnectionsPerInstance { get; } = resilience.Value.MaxConnectionsPerInstance;

    public long TimeoutMs { get; } = (long)(resilience.Value.TimeoutSeconds * 1000);

    /// <summary><c>Limits:KeepAliveSeconds</c>: an idle client connection is closed after it, as Kestrel does.</summary>
    public long KeepAliveMs { get; } = (long)(limits.Value.KeepAliveSeconds * 1000);

    /// <summary><c>Limits:RequestHeadersSeconds</c>: a request still incomplete after it closes its connection.</summary>
    public long RequestHeadersMs { get; } = (long)(limits.Value.RequestHeadersSeconds * 1000);

    public long ConnectTimeoutMs { get; } = (long)(resilience.Value.ConnectTimeoutSeconds * 1000);

    /// <summary>Largest request body the fast lane takes (it must be replayable through the full path).</summary>
    public long MaxBodyBytes { get; } = Math.Min(resilience.Value.ReplayableBodyBytes, limits.Value.MaxRequestBodyBytes);

    /// <summary>Responses up to this size are held whole before the client sees them (an instance failing mid-body is then retried).</summary>
    public int HeldResponseBytes { get; } = resilience.Value.BufferedResponseBytes;

    /// <summary>The service whose route prefix <paramref name="path"/> falls under (whole segments, ASCII case ignored), or null.</summary>
    public string? Route(ReadOnlySpan<byte> path)
    {
        foreach (var (prefix, service) in _routes)
        {
            if (path.Length >= prefix.Length && System.Text.Ascii.EqualsIgnoreCase(path[..prefix.Length], prefix)
                && (path.Length == prefix.Length || path[prefix.Length] == (byte)'/'))
            {
                return service;
            }
        }

        return null;
    }

    /// <summary>The event loops, once the fast lane's transport has started them; null while it is off.</summary>
    public EventLoop[]? Loops { get; set; }

    /// <summary>Whether the fast lane serves connections; how many requests it forwarded, connections it handed to Kestrel, heads it refused.</summary>
    public (bool Enabled, long Forwarded, long HandedOff, long Refused) Totals() =>
        Loops is { } loops ? (true, loops.Sum(l => l.Forwarded), loops.Sum(l => l.HandedOff), loops.Sum(l => l.Refused)) : (false, 0, 0, 0);
}
