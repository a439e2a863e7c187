namespace Calc.Cache.Storage;

/// <summary>One key. Mutated only under the lock of the <see cref="Shard"/> that holds it.</summary>
internal sealed class CacheEntry(byte[] key, object value)
{
    public byte[] Key { get; } = key;

    /// <summary>A byte[] (string type) or a <see cref="HashValue"/> (hash type).</summary>
    public object Value { get; set; } = value;

    /// <summary>Absolute expiry in Unix milliseconds; 0 means the key does not expire.</summary>
    public long ExpiresAt { get; set; }

    /// <summary>Unix ms of the last access (the command's clock), for allkeys-lru sampling and OBJECT IDLETIME.</summary>
    public long LastAccess { get; set; }

    /// <summary>Index in the shard's dense list of entries with a TTL (active expiry sampling); -1 if none.</summary>
    public int VolatileSlot { get; set; } = -1;

    /// <summary>Bytes this entry is accounted for in <see cref="Keyspace.UsedMemory"/>.</summary>
    public long Size { get; set; }

    public bool IsExpired(long now) => ExpiresAt != 0 && now > ExpiresAt;
}
