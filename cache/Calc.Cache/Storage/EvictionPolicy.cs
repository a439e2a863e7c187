namespace Calc.Cache.Storage;

/// <summary>Which keys go when <c>maxmemory</c> is reached (Redis's maxmemory-policy names).</summary>
public enum EvictionPolicy
{
    /// <summary>Write commands fail with OOM (Redis's default).</summary>
    NoEviction,

    /// <summary>Approximate LRU over all keys: the least recently used of 5 random samples goes.</summary>
    AllKeysLru,

    /// <summary>A random key goes.</summary>
    AllKeysRandom,

    /// <summary>Approximate LRU over keys with a TTL.</summary>
    VolatileLru,

    /// <summary>A random key with a TTL goes.</summary>
    VolatileRandom,
}
