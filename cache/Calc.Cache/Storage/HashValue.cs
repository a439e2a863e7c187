using System.Collections;
using System.Runtime.InteropServices;

namespace Calc.Cache.Storage;

/// <summary>
/// The value of a hash key: the (field, value) pairs in a dense list and an index from field to its position, as
/// <see cref="SetValue"/> keeps members. Removal moves the last pair into the hole, so HSCAN's cursor, which walks the
/// list downwards, never misses a field that was there for the whole scan (only the last pair ever moves, and only to
/// a lower position), and HRANDFIELD picks a field in O(1).
/// </summary>
internal sealed class HashValue : CollectionValue
{
    private readonly List<KeyValuePair<byte[], byte[]>> _pairs = [];
    private readonly Dictionary<byte[], int> _index = new(ByteArrayComparer.Instance);
    private bool _hashtable;

    /// <summary>Every (field, value) pair, in the dense list's order.</summary>
    public PairList Fields => new(_pairs);

    public override long ObjectBytes => MemoryEstimate.HashObject;

    public override int Count => _pairs.Count;

    /// <summary>
    /// OBJECT ENCODING as Redis 7.0 would answer: "listpack" while at most hash-max-listpack-entries (128) fields, each
    /// field and value at most hash-max-listpack-value (64) bytes; then "hashtable" for good (Redis never converts back).
    /// The storage itself is the same either way.
    /// </summary>
    public string Encoding => _hashtable ? "hashtable" : "listpack";

    /// <summary>The pair at <paramref name="position"/> of the dense list (0 to <see cref="Count"/> - 1).</summary>
    public KeyValuePair<byte[], byte[]> this[int position] => _pairs[position];

    /// <summary>COPY: the same fields, and the same OBJECT ENCODING (Redis duplicates the encoding as it is).</summary>
    public HashValue Clone()
    {
        var copy = new HashValue();
        copy._pairs.EnsureCapacity(_pairs.Count);
        copy._index.EnsureCapacity(_pairs.Count);
        foreach (var (field, value) in _pairs)
        {
            copy.Set(field, value); // element arrays are shared: a hash field's value is replaced, never changed in place
        }

        copy._hashtable = _hashtable;
        return copy;
    }

    /// <summary>Sets a field; true if it was new.</summary>
    public bool Set(byte[] field, byte[] value)
    {
        ref var position = ref CollectionsMarshal.GetValueRefOrAddDefault(_index, field, out var exists);
        if (exists)
        {
            var old = _pairs[position];
            DataBytes += MemoryEstimate.Array(value.Length) - MemoryEstimate.Array(old.Value.Length);
            _pairs[position] = new(old.Key, value);
            _hashtable |= value.Length > 64;
            return false;
        }

        position = _pairs.Count;
        _pairs.Add(new(field, value));
        _hashtable |= _pairs.Count > 128 || field.Length > 64 || value.Length > 64;
        DataBytes += MemoryEstimate.HashField + MemoryEstimate.Array(field.Length) + MemoryEstimate.Array(value.Length);
        return true;
    }

    public byte[]? Get(ReadOnlySpan<byte> field) =>
        _index.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(field, out var position) ? _pairs[position].Value : null;

    public bool Remove(ReadOnlySpan<byte> field)
    {
        if (!_index.GetAlternateLookup<ReadOnlySpan<byte>>().Remove(field, out _, out var position))
        {
            return false;
        }

        var removed = _pairs[position];
        var last = _pairs.Count - 1;
        if (position != last)
        {
            var moved = _pairs[last];
            _pairs[position] = moved;
            _index[moved.Key] = position;
        }

        _pairs.RemoveAt(last);
        DataBytes -= MemoryEstimate.HashField + MemoryEstimate.Array(removed.Key.Length) + MemoryEstimate.Array(removed.Value.Length);
        if (_pairs.Count == 0)
        {
            _pairs.TrimExcess();
        }

        return true;
    }

    /// <summary>The pairs without a copy: a struct enumerator for the commands, IEnumerable for the AOF rewrite.</summary>
    internal readonly struct PairList(List<KeyValuePair<byte[], byte[]>> pairs) : IEnumerable<KeyValuePair<byte[], byte[]>>
    {
        public List<KeyValuePair<byte[], byte[]>>.Enumerator GetEnumerator() => pairs.GetEnumerator();

        IEnumerator<KeyValuePair<byte[], byte[]>> IEnumerable<KeyValuePair<byte[], byte[]>>.GetEnumerator() => pairs.GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => pairs.GetEnumerator();
    }
}
