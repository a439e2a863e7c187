using System.ComponentModel.DataAnnotations;

namespace Calc.Gateway;

/// <summary>One route: requests whose path starts with <see cref="Prefix"/> go to instances of <see cref="Service"/>.</summary>
internal sealed class GatewayRoute
{
    /// <summary>Path prefix, e.g. <c>/calculations</c> (matches <c>/calculations</c> and <c>/calculations/...</c>).</summary>
    [Required, RegularExpression("^/[A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*$")]
    public string Prefix { get; set; } = "";

    /// <summary>The service name instances register under.</summary>
    [Required, RegularExpression("^[a-z0-9][a-z0-9-]{0,62}$")]
    public string Service { get; set; } = "";
}

/// <summary>Registry in the cache (section <c>Registry</c>).</summary>
internal sealed class RegistryOptions
{
    public const string SectionName = "Registry";

    /// <summary>Prefix of every key the registry writes, so several systems can share one cache.</summary>
    [Required, RegularExpression("^[A-Za-z0-9._-]+$")]
    public string KeyPrefix { get; set; } = "calc";

    /// <summary>An instance's entry lives this long after its last heartbeat.</summary>
    [Range(1, 3600)]
    public double TtlSeconds { get; set; } = 10;

    /// <summary>How often the gateway rereads the registry from the cache.</summary>
    [Range(50, 60_000)]
    public int RefreshMilliseconds { get; set; } = 1000;

    /// <summary>How long an instance evicted for repeated failures stays out (its heartbeats are refused meanwhile).</summary>
    [Range(1, 86_400)]
    public double EvictionSeconds { get; set; } = 60;

    public TimeSpan Ttl => TimeSpan.FromSeconds(TtlSeconds);
}

/// <summary>How an instance is chosen.</summary>
internal enum BalancingMode
{
    /// <summary>Power of two choices on reported load plus the gateway's own in-flight requests.</summary>
    LeastLoad,

    /// <summary>Each instance in turn.</summary>
    RoundRobin,
}

/// <summary>Section <c>Balancing</c>.</summary>
internal sealed class BalancingOptions
{
    public const string SectionName = "Balancing";

    public BalancingMode Mode { get; set; } = BalancingMode.LeastLoad;
}

/// <summary>Timeouts, retries and circuit breakers (section <c>Resilience</c>).</summary>
internal sealed class ResilienceOptions
{
    public const string SectionName = "Resilience";

    /// <summary>Time allowed per attempt until the response headers arrive.</summary>
    [Range(0.1, 3600)]
    public double TimeoutSeconds { get; set; } = 30;

    [Range(0.1, 60)]
    public double ConnectTimeoutSeconds { get; set; } = 2;

    /// <summary>Instances tried per request, at most (retries go to another instance each time).</summary>
    [Range(1, 10)]
    public int MaxAttempts { get; set; } = 3;

    /// <summary>Share of failed calls within <see cref="SamplingSeconds"/> that opens an instance's breaker.</summary>
    [Range(0.01, 1)]
    public double FailureRatio { get; set; } = 0.5;

    /// <summary>Calls within <see cref="SamplingSeconds"/> before the breaker may open.</summary>
    [Range(2, 10_000)]
    public int MinimumThroughput { get; set; } = 4;

    [Range(0.5, 3600)]
    public double SamplingSeconds { get; set; } = 10;

    /// <summary>How long an open breaker stays open before one probe call is let through (half-open).</summary>
    [Range(0.5, 3600)]
    public double BreakSeconds { get; set; } = 5;

    /// <summary>An instance whose breaker opened this many times is removed from the registry.</summary>
    [Range(1, 1000)]
    public int EvictAfterOpenings { get; set; } = 3;

    /// <summary>Retry-After, in seconds, on the gateway's own 503.</summary>
    [Range(1, 3600)]
    public int RetryAfterSeconds { get; set; } = 1;

    [Range(1, 100_000)]
    public int MaxConnectionsPerInstance { get; set; } = 256;

    /// <summary>Request bodies up to this size are buffered so they can be sent again to another instance; larger ones stream, and get one attempt.</summary>
    [Range(0, 16 * 1024 * 1024)]
    public int ReplayableBodyBytes { get; set; } = 64 * 1024;

    /// <summary>
    /// Responses to idempotent requests are read up to this size before the client sees anything, so an instance
    /// dying mid-response is retried elsewhere; beyond it the rest streams. 0 streams everything at once.
    /// </summary>
    [Range(0, 16 * 1024 * 1024)]
    public int BufferedResponseBytes { get; set; } = 64 * 1024;
}

/// <summary>Client rate limiting (section <c>RateLimiting</c>): a fixed window per client IP address.</summary>
internal sealed class RateLimitingOptions
{
    public const string SectionName = "RateLimiting";

    /// <summary>Requests per window per client; 0 turns rate limiting off.</summary>
    [Range(0, 1_000_000)]
    public int PermitLimit { get; set; } = 600;

    [Range(0.1, 3600)]
    public double WindowSeconds { get; set; } = 1;
}

/// <summary>Section <c>Limits</c>.</summary>
internal sealed class LimitsOptions
{
    public const string SectionName = "Limits";

    /// <summary>Largest request body accepted (413 above it).</summary>
    [Range(0, long.MaxValue)]
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>An idle client connection is closed after this long (Kestrel's keep-alive timeout, on both paths).</summary>
    [Range(1, 86_400)]
    public double KeepAliveSeconds { get; set; } = 130;

    /// <summary>A request whose head has not arrived whole after this long closes its connection (Kestrel's request-headers timeout).</summary>
    [Range(1, 3600)]
    public double RequestHeadersSeconds { get; set; } = 30;
}

/// <summary>Section <c>Performance</c>: how the gateway uses its threads.</summary>
internal sealed class PerformanceOptions
{
    public const string SectionName = "Performance";

    /// <summary>
    /// Run socket completions and Kestrel's request processing on the socket engine's threads rather than the thread
    /// pool (<c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS</c> + Kestrel's <c>UnsafePreferInlineScheduling</c>).
    /// Opt-in: only safe while nothing on the forwarding path blocks.
    /// </summary>
    public bool InlineIo { get; set; }

    /// <summary>
    /// Serve plain forwards (idempotent HTTP/1.1 requests under a route, to an instance whose breaker is closed) from
    /// the gateway's own epoll event loops instead of Kestrel and HttpClient; everything else still goes through
    /// Kestrel. Linux x64 only; ignored elsewhere.
    /// </summary>
    public bool FastLane { get; set; } = true;

    /// <summary>The fast lane's event-loop threads; 0 (the default) means one per core.</summary>
    [Range(0, 256)]
    public int FastLaneLoops { get; set; }
}
