namespace Calc.Cache.Storage;

/// <summary>
/// Approximate managed-heap cost of what the store holds. Approximate but honest: it counts the objects we allocate
/// per key (entry, hash-table slot with typical slack, key and value arrays), not the process's fixed overhead.
/// </summary>
internal static class MemoryEstimate
{
    /// <summary>CacheEntry object (48) + key-table slot with slack (16 B at 37-75% load while keys are added: 21-43, counted as 42; down to 19% after deletes).</summary>
    public const long Entry = 90;

    /// <summary>Per hash field: the index entry with slack (as a set member's) and the dense 16-byte (field, value) slot with slack.</summary>
    public const long HashField = 60;

    /// <summary>The hash's own Dictionary and HashValue objects.</summary>
    public const long HashObject = 120;

    /// <summary>A list's ListValue object and its ring array's header (its 8-byte slots are counted by the list).</summary>
    public const long ListObject = 64;

    /// <summary>A set's SetValue, Dictionary and List objects.</summary>
    public const long SetObject = 200;

    /// <summary>Per set member: the index entry with slack (24 B entry + 4 B bucket, at ~70% load) and the dense list slot.</summary>
    public const long SetMember = 48;

    /// <summary>A sorted set's objects (index, dense list, chunk list).</summary>
    public const long SortedSetObject = 260;

    /// <summary>Per sorted-set member: index entry (as a set's), dense (member, score) slot and ordered (score, member) slot with slack.</summary>
    public const long SortedSetMember = 80;

    /// <summary>A byte[] of <paramref name="length"/>: 24 bytes of header, data rounded up to 8.</summary>
    public static long Array(int length) => 24 + ((length + 7L) & ~7L);

    public static long Of(CacheEntry entry) => Entry + Array(entry.Key.Length) + entry.Value switch
    {
        byte[] bytes => Array(bytes.Length),
        CollectionValue collection => collection.ObjectBytes + collection.DataBytes,
        _ => 0,
    };
}
