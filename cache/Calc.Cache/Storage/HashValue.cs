namespace Calc.Cache.Storage;

/// <summary>The value of a hash key: field to value, with a running count of the bytes held.</summary>
internal sealed class HashValue : CollectionValue
{
    public Dictionary<byte[], byte[]> Fields { get; } = new(ByteArrayComparer.Instance);

    public override long ObjectBytes => MemoryEstimate.HashObject;

    public override int Count => Fields.Count;

    /// <summary>
    /// OBJECT ENCODING as Redis 7.0 would answer: "listpack" while at most hash-max-listpack-entries (128) fields, each
    /// field and value at most hash-max-listpack-value (64) bytes; then "hashtable" for good (Redis never converts back).
    /// The storage itself is the same either way.
    /// </summary>
    public string Encoding => _hashtable ? "hashtable" : "listpack";

    private bool _hashtable;

    /// <summary>COPY: the same fields, and the same OBJECT ENCODING (Redis duplicates the encoding as it is).</summary>
    public HashValue Clone()
    {
        var copy = new HashValue();
        copy.Fields.EnsureCapacity(Fields.Count);
        foreach (var (field, value) in Fields)
        {
            copy.Set(field, value); // element arrays are shared: a hash field's value is replaced, never changed in place
        }

        copy._hashtable = _hashtable;
        return copy;
    }

    /// <summary>Sets a field; true if it was new.</summary>
    public bool Set(byte[] field, byte[] value)
    {
        if (Fields.TryGetValue(field, out var old))
        {
            DataBytes += MemoryEstimate.Array(value.Length) - MemoryEstimate.Array(old.Length);
            Fields[field] = value;
            _hashtable |= value.Length > 64;
            return false;
        }

        Fields.Add(field, value);
        _hashtable |= Fields.Count > 128 || field.Length > 64 || value.Length > 64;
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
