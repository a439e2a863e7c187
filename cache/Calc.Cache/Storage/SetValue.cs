namespace Calc.Cache.Storage;

/// <summary>
/// The value of a set key: the members in a dense list (O(1) random member for SPOP/SRANDMEMBER) and an index from
/// member to its position. Removal moves the last member into the hole, so a cursor that walks the list downwards
/// (SSCAN) never misses a member that was there for the whole scan: only the last member ever moves, and only to a
/// lower position.
/// </summary>
internal sealed class SetValue : CollectionValue
{
    private readonly List<byte[]> _members = [];
    private readonly Dictionary<byte[], int> _index = new(ByteArrayComparer.Instance);
    private bool _hashtable;

    public override long ObjectBytes => MemoryEstimate.SetObject;

    public override int Count => _members.Count;

    /// <summary>
    /// OBJECT ENCODING as Redis 7.0 would answer: "intset" while every member is a 64-bit integer's text and there are at
    /// most set-max-intset-entries (512); once either stops being true, "hashtable" for good (Redis never converts back).
    /// </summary>
    public string Encoding => _hashtable ? "hashtable" : "intset";

    public byte[] this[int index] => _members[index];

    /// <summary>COPY: the same members (arrays shared; a member never changes), and the same OBJECT ENCODING.</summary>
    public SetValue Clone()
    {
        var copy = new SetValue();
        foreach (var member in _members)
        {
            copy.Add(member);
        }

        copy._hashtable = _hashtable;
        return copy;
    }

    public bool Contains(ReadOnlySpan<byte> member) => _index.GetAlternateLookup<ReadOnlySpan<byte>>().ContainsKey(member);

    public bool Add(byte[] member)
    {
        if (!_index.TryAdd(member, _members.Count))
        {
            return false;
        }

        _members.Add(member);
        DataBytes += MemoryEstimate.SetMember + MemoryEstimate.Array(member.Length);
        if (!_hashtable && (_members.Count > 512 || !IsInteger(member)))
        {
            _hashtable = true;
        }

        return true;
    }

    public bool Remove(ReadOnlySpan<byte> member)
    {
        if (!_index.GetAlternateLookup<ReadOnlySpan<byte>>().Remove(member, out var stored, out var position))
        {
            return false;
        }

        RemoveAt(position, stored);
        return true;
    }

    /// <summary>Removes and returns the member at <paramref name="position"/> (SPOP).</summary>
    public byte[] RemoveAt(int position)
    {
        var member = _members[position];
        _index.Remove(member);
        RemoveAt(position, member);
        return member;
    }

    public List<byte[]>.Enumerator GetEnumerator() => _members.GetEnumerator();

    private void RemoveAt(int position, byte[] member)
    {
        var last = _members.Count - 1;
        if (position != last)
        {
            var moved = _members[last];
            _members[position] = moved;
            _index[moved] = position;
        }

        _members.RemoveAt(last);
        DataBytes -= MemoryEstimate.SetMember + MemoryEstimate.Array(member.Length);
        if (_members.Count == 0)
        {
            _members.TrimExcess();
        }
    }

    private static bool IsInteger(byte[] member) => member.Length <= 20 && Commands.RespSession.TryParseInteger(member, out _);
}
