using System.Collections.Concurrent;
using Calc.Core.Discovery;
using Calc.Gateway.Balancing;
using Calc.Gateway.Forwarding;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Calc.Gateway.Registry;

/// <summary>What became of an announcement.</summary>
internal enum AnnounceOutcome
{
    Accepted,
    Evicted,
}

/// <summary>
/// The gateway's view of the registry: the instances of every service, refreshed from the shared store (the cache)
/// and updated at once by the heartbeats this gateway receives. When the store cannot be reached the last known view
/// stays in use (logged once), and heartbeats received here keep working; when the store comes back empty (a cache
/// restart), the instances heard here within the TTL are written back to it.
/// </summary>
internal sealed partial class ServiceRegistry(
    IRegistryStore store,
    IOptions<RegistryOptions> registryOptions,
    IOptions<ResilienceOptions> resilienceOptions,
    TimeProvider time,
    ILogger<ServiceRegistry> logger)
{
    private static readonly TimeSpan StoreCallLimit = TimeSpan.FromSeconds(1);

    private readonly RegistryOptions _options = registryOptions.Value;
    private readonly ResilienceOptions _resilience = resilienceOptions.Value;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, UpstreamInstance> _instances = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ServiceInstances> _services = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _evictedUntil = new(StringComparer.Ordinal);
    private int _storeDown = -1; // -1 unknown, 0 up, 1 down

    /// <summary>False while the last read of the store failed (routing uses the last known registry).</summary>
    public bool StoreAvailable => Volatile.Read(ref _storeDown) == 0;

    public DateTimeOffset? LastRefresh { get; private set; }

    public ServiceInstances? Find(string service) => _services.GetValueOrDefault(service);

    public IEnumerable<ServiceInstances> Services => _services.Values;

    public async Task<AnnounceOutcome> AnnounceAsync(InstanceAnnouncement announcement, CancellationToken cancellationToken)
    {
        var key = UpstreamInstance.KeyOf(announcement.Service, announcement.InstanceId);
        var now = time.GetUtcNow();
        if (IsEvictedLocally(key, now) || await IsEvictedInStoreAsync(announcement, cancellationToken))
        {
            return AnnounceOutcome.Evicted;
        }

        var entry = new RegistryEntry(announcement.Service, announcement.InstanceId, announcement.BaseUrl, announcement.Capacity, announcement.Processing, now);
        Upsert(entry, heardLocally: true);
        await TryStoreAsync(ct => store.UpsertAsync(entry, _options.Ttl, ct), cancellationToken);
        return AnnounceOutcome.Accepted;
    }

    public async Task DeregisterAsync(string service, string instanceId, CancellationToken cancellationToken)
    {
        Remove(UpstreamInstance.KeyOf(service, instanceId));
        await TryStoreAsync(ct => store.RemoveAsync(service, instanceId, ct), cancellationToken);
        LogDeregistered(logger, service, instanceId);
    }

    /// <summary>Rereads the store; on failure keeps the last known view.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<RegistryEntry> entries;
        try
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(StoreCallLimit * 2);
            entries = await store.ReadAllAsync(limit.Token);
        }
        catch (Exception exception) when (IsStoreFailure(exception, cancellationToken))
        {
            MarkStore(up: false, exception);
            return;
        }

        MarkStore(up: true, null);
        var now = time.GetUtcNow();
        LastRefresh = now;
        var live = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            var key = UpstreamInstance.KeyOf(entry.Service, entry.InstanceId);
            if (!IsEvictedLocally(key, now))
            {
                live.Add(key);
                Upsert(entry, heardLocally: false);
            }
        }

        // Heard here within the TTL but missing from the store (the cache restarted, or lost a write): still alive.
        List<RegistryEntry> missing;
        lock (_gate)
        {
            missing = [.. _instances.Values
                .Where(i => !live.Contains(i.Key) && i.HeardLocally is { } heard && now - heard < _options.Ttl)
                .Select(i => i.Entry)];
            foreach (var gone in _instances.Keys.Where(k => !live.Contains(k)).ToList())
            {
                if (!missing.Any(m => UpstreamInstance.KeyOf(m.Service, m.InstanceId) == gone))
                {
                    RemoveLocked(gone);
                }
            }
        }

        foreach (var entry in missing)
        {
            var remaining = _options.Ttl - (now - entry.LastHeartbeat);
            await TryStoreAsync(ct => store.UpsertAsync(entry, remaining, ct), cancellationToken);
        }
    }

    /// <summary>Removes an instance that keeps failing, in this gateway and in the store, for <see cref="RegistryOptions.EvictionSeconds"/>.</summary>
    public async Task EvictAsync(UpstreamInstance instance)
    {
        var duration = TimeSpan.FromSeconds(_options.EvictionSeconds);
        _evictedUntil[instance.Key] = time.GetUtcNow() + duration;
        Remove(instance.Key);
        LogEvicted(logger, instance.Entry.Service, instance.Entry.InstanceId, instance.Openings, _options.EvictionSeconds);
        await TryStoreAsync(ct => store.EvictAsync(instance.Entry.Service, instance.Entry.InstanceId, duration, ct), CancellationToken.None);
    }

    private void Upsert(RegistryEntry entry, bool heardLocally)
    {
        var key = UpstreamInstance.KeyOf(entry.Service, entry.InstanceId);
        lock (_gate)
        {
            if (_instances.TryGetValue(key, out var existing) && existing.Entry.BaseUrl == entry.BaseUrl)
            {
                existing.Update(entry, heardLocally);
                return;
            }

            var instance = Create(entry);
            instance.Update(entry, heardLocally);
            _instances[key] = instance;
            Rebuild(entry.Service);
            LogAdded(logger, entry.Service, entry.InstanceId, entry.BaseUrl);
        }
    }

    private void Remove(string key)
    {
        lock (_gate)
        {
            RemoveLocked(key);
        }
    }

    private void RemoveLocked(string key)
    {
        if (_instances.Remove(key, out var removed))
        {
            Rebuild(removed.Entry.Service);
            LogRemoved(logger, removed.Entry.Service, removed.Entry.InstanceId);
        }
    }

    // Readers take the array without a lock; it is replaced, never changed in place.
    private void Rebuild(string service)
    {
        var group = _services.GetOrAdd(service, s => new ServiceInstances(s));
        group.Instances = [.. _instances.Values.Where(i => i.Entry.Service == service).OrderBy(i => i.Entry.InstanceId, StringComparer.Ordinal)];
    }

    private UpstreamInstance Create(RegistryEntry entry)
    {
        var breaker = new CircuitBreakerStateProvider();
        UpstreamInstance? instance = null;
        var breakerOnly = new ResiliencePipelineBuilder<UpstreamResponse>()
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<UpstreamResponse>
            {
                FailureRatio = _resilience.FailureRatio,
                MinimumThroughput = _resilience.MinimumThroughput,
                SamplingDuration = TimeSpan.FromSeconds(_resilience.SamplingSeconds),
                BreakDuration = TimeSpan.FromSeconds(_resilience.BreakSeconds),
                StateProvider = breaker,
                // A 503 is admission control saying "full", a healthy answer; other 5xx, errors and timeouts count.
                ShouldHandle = new PredicateBuilder<UpstreamResponse>()
                    .Handle<HttpRequestException>()
                    .Handle<IOException>()
                    .Handle<TimeoutRejectedException>()
                    // (The fast lane reports its successes as a null result and its failures as exceptions.)
                    .HandleResult(r => r is not null && (int)r.Message.StatusCode >= 500 && r.Message.StatusCode != System.Net.HttpStatusCode.ServiceUnavailable),
                OnOpened = args =>
                {
                    OnBreakerOpened(instance!, args.BreakDuration);
                    return default;
                },
                OnClosed = _ =>
                {
                    instance!.MarkClosed();
                    LogBreakerClosed(logger, instance!.Entry.Service, instance.Entry.InstanceId);
                    return default;
                },
            })
            .Build();
        // The same breaker (one state) with the per-attempt timeout inside it, for the full forwarding path.
        var pipeline = new ResiliencePipelineBuilder<UpstreamResponse>()
            .AddPipeline(breakerOnly)
            .AddTimeout(TimeSpan.FromSeconds(_resilience.TimeoutSeconds))
            .Build();
        instance = new UpstreamInstance(entry, breakerOnly, pipeline, breaker);
        return instance;
    }

    private void OnBreakerOpened(UpstreamInstance instance, TimeSpan breakDuration)
    {
        var openings = instance.CountOpening(breakDuration);
        LogBreakerOpened(logger, instance.Entry.Service, instance.Entry.InstanceId, breakDuration.TotalSeconds, openings);
        if (openings >= _resilience.EvictAfterOpenings)
        {
            _ = Task.Run(() => EvictAsync(instance));
        }
    }

    private bool IsEvictedLocally(string key, DateTimeOffset now)
    {
        if (!_evictedUntil.TryGetValue(key, out var until))
        {
            return false;
        }

        if (until > now)
        {
            return true;
        }

        _evictedUntil.TryRemove(key, out _);
        return false;
    }

    private async Task<bool> IsEvictedInStoreAsync(InstanceAnnouncement announcement, CancellationToken cancellationToken)
    {
        if (!StoreAvailable)
        {
            return false;
        }

        try
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(StoreCallLimit);
            return await store.IsEvictedAsync(announcement.Service, announcement.InstanceId, limit.Token);
        }
        catch (Exception exception) when (IsStoreFailure(exception, cancellationToken))
        {
            MarkStore(up: false, exception);
            return false;
        }
    }

    private async Task TryStoreAsync(Func<CancellationToken, Task> call, CancellationToken cancellationToken)
    {
        try
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(StoreCallLimit);
            await call(limit.Token);
        }
        catch (Exception exception) when (IsStoreFailure(exception, cancellationToken))
        {
            MarkStore(up: false, exception);
        }
    }

    private static bool IsStoreFailure(Exception exception, CancellationToken cancellationToken) =>
        exception is StackExchange.Redis.RedisException or IOException or TimeoutException
        || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    private void MarkStore(bool up, Exception? exception)
    {
        var previous = Interlocked.Exchange(ref _storeDown, up ? 0 : 1);
        if (!up && previous != 1)
        {
            LogStoreDown(logger, exception?.Message ?? "");
        }
        else if (up && previous == 1)
        {
            LogStoreUp(logger);
        }
    }

    [LoggerMessage(LogLevel.Information, "Instance {Service}/{InstanceId} added at {BaseUrl}.")]
    private static partial void LogAdded(ILogger logger, string service, string instanceId, Uri baseUrl);

    [LoggerMessage(LogLevel.Information, "Instance {Service}/{InstanceId} removed from the registry.")]
    private static partial void LogRemoved(ILogger logger, string service, string instanceId);

    [LoggerMessage(LogLevel.Information, "Instance {Service}/{InstanceId} deregistered.")]
    private static partial void LogDeregistered(ILogger logger, string service, string instanceId);

    [LoggerMessage(LogLevel.Warning, "Circuit of {Service}/{InstanceId} opened for {BreakSeconds} s (opening {Openings}).")]
    private static partial void LogBreakerOpened(ILogger logger, string service, string instanceId, double breakSeconds, int openings);

    [LoggerMessage(LogLevel.Information, "Circuit of {Service}/{InstanceId} closed again.")]
    private static partial void LogBreakerClosed(ILogger logger, string service, string instanceId);

    [LoggerMessage(LogLevel.Warning, "Evicted {Service}/{InstanceId} after {Openings} circuit openings; kept out for {EvictionSeconds} s.")]
    private static partial void LogEvicted(ILogger logger, string service, string instanceId, int openings, double evictionSeconds);

    [LoggerMessage(LogLevel.Warning, "Registry cache unreachable ({Reason}): routing on the last known registry.")]
    private static partial void LogStoreDown(ILogger logger, string reason);

    [LoggerMessage(LogLevel.Information, "Registry cache reachable again.")]
    private static partial void LogStoreUp(ILogger logger);
}
