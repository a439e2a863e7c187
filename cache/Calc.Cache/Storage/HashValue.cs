namespace Calc.Cache.Storage;

/// <summary>The value of a hash key: field to value, with a running count of the bytes held.</summary>
internal sealed class HashValue
{
    public Dictionary<byte[], byte[]> Fields { get; } = new(ByteArrayComparer.Instance);

    public long DataBytes { get; private set; }

    public int Count => Fields.Count;

    /// <summary>What the key holding this hash is counted for in <see cref="Keyspace.UsedMemory"/> (set by its shard).</summary>
    public long AccountedBytes { get; set; }

    /// <summary>Sets a field; true if it was new.</summary>
    public bool Set(byte[] field, byte[] value)
    {
        if (Fields.TryGetValue(field, out var old))
        {
            DataBytes += MemoryEstimate.Array(value.Length) - MemoryEstimate.Array(old.Length);
            Fields[field] = value;
            return false;
        }

        Fields.Add(field, value);
        DataBytes += MemoryEstimate.HashField + MemoryEstimate.Array(field.Length) + MemoryEstimate.Array(value.Length);
        return true;
    }

    public byte[]? Get(ReadOnlySpan<byte> field) =>
        Fields.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(field, out var value) ? value : null;

    public bool Remove(ReadOnlySpan<byte> field)
    {
        if (!Fields.GetAlternateLookup<ReadOnlySpan<byte>>().Remove(field, out var key, out var value))
        {
            return false;
        }

        DataBytes -= MemoryEstimate.HashField + MemoryEstimate.Array(key.Length) + MemoryEstimate.Array(value.Length);
        return true;
    }
}
