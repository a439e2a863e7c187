namespace Calc.Cache.Storage;

/// <summary>
/// One key. Mutated only under the lock of the <see cref="Shard"/> that holds it. Kept at 48 bytes (16 of header, 32
/// of fields), a quarter of what a small key costs in all: no size field (see <see cref="Shard"/>'s accounting) and the
/// access time in seconds.
/// </summary>
internal sealed class CacheEntry(byte[] key, object value)
{
    public byte[] Key { get; } = key;

    /// <summary>
    /// A byte[] (string type) or a <see cref="HashValue"/> (hash type). Set only through <see cref="Shard.SetValue"/>,
    /// and a string's array changed in place only at the same length, so the memory accounting stays exact.
    /// </summary>
    public object Value { get; set; } = value;

    /// <summary>Absolute expiry in Unix milliseconds; 0 means the key does not expire.</summary>
    public long ExpiresAt { get; set; }

    /// <summary>
    /// Unix seconds of the last access (the command's clock), for LRU sampling and OBJECT IDLETIME: one-second
    /// resolution, as Redis's LRU clock; unsigned 32 bits last until 2106.
    /// </summary>
    public uint LastAccess { get; private set; }

    /// <summary>Index in the shard's dense list of entries with a TTL (active expiry sampling); -1 if none.</summary>
    public int VolatileSlot { get; set; } = -1;

    public bool IsExpired(long now) => ExpiresAt != 0 && now > ExpiresAt;

    /// <summary>Records an access at <paramref name="now"/> (Unix milliseconds).</summary>
    public void Touch(long now) => LastAccess = (uint)(now / 1000);

    /// <summary>Whole seconds since the last access, as OBJECT IDLETIME reports it.</summary>
    public long IdleSeconds(long now) => Math.Max(0, (now / 1000) - LastAccess);
}
