namespace Calc.Gateway.Registry;

/// <summary>Where the registry is shared between gateways: the cache. Every call may throw when the store is down.</summary>
internal interface IRegistryStore
{
    /// <summary>Adds or renews an instance's entry; it disappears by itself <paramref name="ttl"/> after the last call.</summary>
    Task UpsertAsync(RegistryEntry entry, TimeSpan ttl, CancellationToken cancellationToken);

    /// <summary>Removes an instance's entry.</summary>
    Task RemoveAsync(string service, string instanceId, CancellationToken cancellationToken);

    /// <summary>Every live entry of every service.</summary>
    Task<IReadOnlyList<RegistryEntry>> ReadAllAsync(CancellationToken cancellationToken);

    /// <summary>Removes an instance and keeps it out (its heartbeats refused) for <paramref name="duration"/>.</summary>
    Task EvictAsync(string service, string instanceId, TimeSpan duration, CancellationToken cancellationToken);

    /// <summary>True while an instance is evicted.</summary>
    Task<bool> IsEvictedAsync(string service, string instanceId, CancellationToken cancellationToken);
}
