namespace Calc.Cache.Storage;

/// <summary>
/// A value that changes in place (hash, list, set, sorted set): it keeps a running count of the bytes its elements
/// hold, and the size its key was last accounted at, so <see cref="Shard"/> can fix the memory accounting after each
/// change without walking the elements (<see cref="Shard.Resized"/>).
/// </summary>
internal abstract class CollectionValue
{
    /// <summary>Estimated bytes of the elements (arrays and per-element structure), kept up to date by each change.</summary>
    public long DataBytes { get; protected set; }

    /// <summary>The fixed cost of the value's own objects (<see cref="MemoryEstimate"/>).</summary>
    public abstract long ObjectBytes { get; }

    public abstract int Count { get; }

    /// <summary>What the key holding this value is counted for in <see cref="Keyspace.UsedMemory"/> (set by its shard).</summary>
    public long AccountedBytes { get; set; }
}
