using System.Net;
using System.Text;
using Calc.Core.Discovery;
using Calc.Gateway.Forwarding;
using Calc.Gateway.Registry;
using Polly;
using Polly.CircuitBreaker;

namespace Calc.Gateway.Balancing;

/// <summary>
/// One registered instance as the gateway routes to it: its latest entry, the load it last reported (heartbeat or
/// <c>X-Calc-Load</c> header), the gateway's own in-flight requests to it, and its circuit breaker + timeout pipeline.
/// The pipeline lives as long as the instance stays registered, so its breaker state survives registry refreshes.
/// </summary>
internal sealed class UpstreamInstance
{
    private readonly CircuitBreakerStateProvider _breaker;
    private readonly ResiliencePipeline<UpstreamResponse> _breakerOnly;
    private IPEndPoint? _endPoint;
    private int _resolving;
    private int _inFlight;
    private int _openings;
    private int _open;
    private long _probeAfter;
    private long _forwarded;
    private long _failures;
    private InstanceLoad _load;

    /// <param name="entry">The instance as registered.</param>
    /// <param name="breakerOnly">The instance's circuit breaker alone (the fast lane reports outcomes to it).</param>
    /// <param name="pipeline">The breaker with the per-attempt timeout inside it (the full forwarding path).</param>
    /// <param name="breaker">The breaker's state.</param>
    public UpstreamInstance(RegistryEntry entry, ResiliencePipeline<UpstreamResponse> breakerOnly, ResiliencePipeline<UpstreamResponse> pipeline, CircuitBreakerStateProvider breaker)
    {
        Entry = entry;
        Pipeline = pipeline;
        _breakerOnly = breakerOnly;
        _breaker = breaker;
        _load = new InstanceLoad(entry.Capacity, entry.Processing);
        Key = KeyOf(entry.Service, entry.InstanceId);
        BaseUrl = entry.BaseUrl.GetLeftPart(UriPartial.Authority);
        Authority = Encoding.ASCII.GetBytes(entry.BaseUrl.Authority);
        if (entry.BaseUrl.Scheme == Uri.UriSchemeHttp && IPAddress.TryParse(entry.BaseUrl.DnsSafeHost, out var address))
        {
            _endPoint = new IPEndPoint(address, entry.BaseUrl.Port);
        }
        else if (entry.BaseUrl.Scheme != Uri.UriSchemeHttp)
        {
            _resolving = 1; // https instances are the full path's (HttpClient's TLS)
        }
    }

    /// <summary>The instance's <c>host:port</c> in ASCII: the Host header of a request sent to it.</summary>
    public byte[] Authority { get; }

    /// <summary>
    /// Where the fast lane connects to, for a plain-HTTP instance: its IP address, or its host name resolved once in
    /// the background (null until then; the full path serves it meanwhile). Null for https instances.
    /// </summary>
    public IPEndPoint? FastLaneEndPoint
    {
        get
        {
            if (_endPoint is null && Interlocked.Exchange(ref _resolving, 1) == 0)
            {
                _ = ResolveAsync();
            }

            return _endPoint;
        }
    }

    /// <summary>True only while the breaker is closed (not open, not half-open): the fast lane leaves probes to the full path.</summary>
    public bool IsClosed => Volatile.Read(ref _open) == 0;

    public string Key { get; }

    public RegistryEntry Entry { get; private set; }

    /// <summary>
    /// Absolute URL prefix of the instance without a trailing slash, e.g. <c>http://127.0.0.1:5081</c>. Fixed: an
    /// entry with another base URL makes a new <see cref="UpstreamInstance"/>.
    /// </summary>
    public string BaseUrl { get; }

    public ResiliencePipeline<UpstreamResponse> Pipeline { get; }

    public CircuitState Circuit => _breaker.CircuitState;

    /// <summary>
    /// False while the breaker is open. Polly moves an open breaker to half-open only when a call is tried after the
    /// break, so an open instance whose break has passed counts as available again: the next call is its probe.
    /// Read on every pick, so it comes from a field the breaker's callbacks set (<see cref="CountOpening"/>,
    /// <see cref="MarkClosed"/>) rather than from the breaker's state provider, which takes the breaker's lock.
    /// </summary>
    public bool IsAvailable => Volatile.Read(ref _open) == 0 || Environment.TickCount64 >= Volatile.Read(ref _probeAfter);

    public int InFlight => Volatile.Read(ref _inFlight);

    public int Openings => Volatile.Read(ref _openings);

    public long Forwarded => Interlocked.Read(ref _forwarded);

    public long Failures => Interlocked.Read(ref _failures);

    public InstanceLoad Load => _load;

    /// <summary>When this gateway itself last received a heartbeat from the instance (not from the cache).</summary>
    public DateTimeOffset? HeardLocally { get; private set; }

    /// <summary>What the balancer minimises: reported load plus this gateway's in-flight share of the capacity.</summary>
    public double Score
    {
        get
        {
            var load = _load;
            return load.Load + ((double)InFlight / Math.Max(1, load.Capacity));
        }
    }

    public static string KeyOf(string service, string instanceId) => service + "\n" + instanceId;

    public void Update(RegistryEntry entry, bool heardLocally)
    {
        // A newer heartbeat wins; an older copy read back from the cache must not undo it.
        if (entry.LastHeartbeat >= Entry.LastHeartbeat)
        {
            Entry = entry;
            _load = new InstanceLoad(entry.Capacity, entry.Processing);
        }

        if (heardLocally)
        {
            HeardLocally = entry.LastHeartbeat;
        }
    }

    public void ReportLoad(InstanceLoad load) => _load = load;

    public void Begin()
    {
        Interlocked.Increment(ref _inFlight);
        Interlocked.Increment(ref _forwarded);
    }

    public void End() => Interlocked.Decrement(ref _inFlight);

    public void CountFailure() => Interlocked.Increment(ref _failures);

    /// <summary>Records that the breaker opened for <paramref name="breakDuration"/>; returns how many times it has opened.</summary>
    public int CountOpening(TimeSpan breakDuration)
    {
        Volatile.Write(ref _probeAfter, Environment.TickCount64 + (long)breakDuration.TotalMilliseconds);
        Volatile.Write(ref _open, 1);
        return Interlocked.Increment(ref _openings);
    }

    /// <summary>
    /// Tells the breaker how a call the fast lane made ended: <paramref name="failure"/> null for a success, else what
    /// failed (counted like the same failure on the full path). Runs the breaker alone, synchronously, no timeout.
    /// </summary>
    public void ReportOutcome(Exception? failure)
    {
        var context = ResilienceContextPool.Shared.Get();
        var outcome = failure is null ? Outcome.FromResult<UpstreamResponse>(null!) : Outcome.FromException<UpstreamResponse>(failure);
        var pending = _breakerOnly.ExecuteOutcomeAsync(static (_, state) => ValueTask.FromResult(state), context, outcome);
        if (pending.IsCompleted)
        {
            ResilienceContextPool.Shared.Return(context);
        }
        else
        {
            _ = ReturnLaterAsync(pending, context);
        }

        static async Task ReturnLaterAsync(ValueTask<Outcome<UpstreamResponse>> pending, ResilienceContext context)
        {
            await pending;
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private async Task ResolveAsync()
    {
        try
        {
            var addresses = await Dns.GetHostAddressesAsync(Entry.BaseUrl.DnsSafeHost);
            if (addresses.Length > 0)
            {
                _endPoint = new IPEndPoint(addresses[0], Entry.BaseUrl.Port);
            }
        }
        catch (System.Net.Sockets.SocketException)
        {
            // Unresolvable here: the full path (HttpClient) keeps serving it and reports the failures.
        }
    }

    /// <summary>Records that the breaker closed (its probe succeeded).</summary>
    public void MarkClosed() => Volatile.Write(ref _open, 0);
}
