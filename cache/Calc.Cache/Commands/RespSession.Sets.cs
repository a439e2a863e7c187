using Calc.Cache.Protocol;
using Calc.Cache.Storage;

namespace Calc.Cache.Commands;

// Set commands. An emptied set is deleted, as in Redis. Commands over several keys lock all their shards (ascending).
internal sealed partial class RespSession
{
    /// <summary>The set at <paramref name="key"/>; replies WRONGTYPE and returns false for another type.</summary>
    private bool TryGetSet(Shard shard, ReadOnlySpan<byte> key, bool create, out CacheEntry? entry, out SetValue? set)
    {
        entry = create ? shard.Find(key, _now) : shard.Lookup(key, _now);
        set = null;
        if (entry is null)
        {
            if (create)
            {
                set = new SetValue();
                entry = shard.Add(key.ToArray(), set, _now);
            }

            return true;
        }

        set = entry.Value as SetValue;
        if (set is null)
        {
            _w.WriteRaw(Replies.WrongType);
            return false;
        }

        return true;
    }

    private static void SetChanged(Shard shard, CacheEntry entry, SetValue set)
    {
        if (set.Count == 0)
        {
            shard.Remove(entry);
        }
        else
        {
            shard.Resized(entry);
        }
    }

    private void SAdd()
    {
        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            if (!TryGetSet(shard, key, create: true, out var entry, out var set))
            {
                return;
            }

            long added = 0;
            for (var i = 2; i < _req.Count; i++)
            {
                if (!set!.Contains(_req[i]) && set.Add(_req.ToArray(i)))
                {
                    added++;
                }
            }

            shard.Resized(entry!);
            _w.WriteInteger(added);
        }
    }

    private void SRem()
    {
        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            if (!TryGetSet(shard, key, create: false, out var entry, out var set))
            {
                return;
            }

            long removed = 0;
            if (set is not null)
            {
                for (var i = 2; i < _req.Count; i++)
                {
                    if (set.Remove(_req[i]))
                    {
                        removed++;
                    }
                }

                SetChanged(shard, entry!, set);
            }

            _w.WriteInteger(removed);
        }
    }

    private void SMembers()
    {
        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            if (!TryGetSet(shard, key, create: false, out _, out var set)
                || !WithinScanLimit(set?.Count ?? 0, "members", "iterate with SSCAN instead"))
            {
                return;
            }

            _w.WriteSetHeader(set?.Count ?? 0);
            if (set is not null)
            {
                foreach (var member in set)
                {
                    _w.WriteBulk(member);
                }
            }
        }
    }

    private void SIsMember(bool many)
    {
        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            if (!TryGetSet(shard, key, create: false, out _, out var set))
            {
                return;
            }

            if (!many)
            {
                _w.WriteRaw(set?.Contains(_req[2]) == true ? Replies.One : Replies.Zero);
                return;
            }

            _w.WriteArrayHeader(_req.Count - 2);
            for (var i = 2; i < _req.Count; i++)
            {
                _w.WriteRaw(set?.Contains(_req[i]) == true ? Replies.One : Replies.Zero);
            }
        }
    }

    private void SCard()
    {
        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            if (TryGetSet(shard, key, create: false, out _, out var set))
            {
                _w.WriteInteger(set?.Count ?? 0);
            }
        }
    }

    private void SPop()
    {
        if (_req.Count > 3)
        {
            _w.WriteRaw(Replies.SyntaxError);
            return;
        }

        var hasCount = _req.Count == 3;
        long count = 1;
        if (hasCount && !TryArgPositive(2, out count))
        {
            return;
        }

        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            if (!TryGetSet(shard, key, create: false, out var entry, out var set))
            {
                return;
            }

            if (set is null)
            {
                if (hasCount)
                {
                    _w.WriteSetHeader(0);
                }
                else
                {
                    _w.WriteNull();
                }

                _logNothing = true;
                return;
            }

            var n = (int)Math.Min(count, set.Count);
            var popped = new byte[n + 2][];
            popped[0] = "SREM"u8.ToArray();
            popped[1] = entry!.Key;
            for (var i = 0; i < n; i++)
            {
                popped[i + 2] = set.RemoveAt(Random.Shared.Next(set.Count));
            }

            SetChanged(shard, entry, set);

            // Random, so the log gets what it did: SREM of the members popped.
            if (n == 0)
            {
                _logNothing = true;
            }
            else
            {
                _logAs = popped;
            }

            if (!hasCount)
            {
                _w.WriteBulk(popped[2]);
                return;
            }

            _w.WriteSetHeader(n);
            for (var i = 0; i < n; i++)
            {
                _w.WriteBulk(popped[i + 2]);
            }
        }
    }

    private void SRandMember()
    {
        if (_req.Count > 3)
        {
            _w.WriteRaw(Replies.SyntaxError);
            return;
        }

        long count = 1;
        if (_req.Count == 3)
        {
            if (!TryArgInteger(2, out count))
            {
                return;
            }

            if (count == long.MinValue)
            {
                _w.WriteError("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807");
                return;
            }
        }

        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            if (!TryGetSet(shard, key, create: false, out _, out var set))
            {
                return;
            }

            if (_req.Count == 2)
            {
                if (set is null)
                {
                    _w.WriteNull();
                }
                else
                {
                    _w.WriteBulk(set[Random.Shared.Next(set.Count)]);
                }

                return;
            }

            if (set is null || count == 0)
            {
                _w.WriteRaw(Replies.EmptyArray);
                return;
            }

            WriteRandomPicks(set.Count, count, i => _w.WriteBulk(set[i]), "members");
        }
    }

    /// <summary>
    /// SRANDMEMBER/ZRANDMEMBER/HRANDFIELD with a count: a positive count picks distinct positions (at most
    /// <paramref name="size"/>), a negative one |count| positions with repetition. More picks than keys-max-scan are
    /// refused (<see cref="WithinScanLimit"/>); the work is O(picks) whatever the size.
    /// </summary>
    private void WriteRandomPicks(int size, long count, Action<int> write, string what, int entriesPerPick = 1)
    {
        if (!WithinScanLimit(count < 0 ? -count : Math.Min(count, size), what, "ask for fewer"))
        {
            return;
        }

        if (count < 0)
        {
            var n = -count;
            _w.WriteArrayHeader((int)Math.Min(n * entriesPerPick, int.MaxValue));
            for (long i = 0; i < n; i++)
            {
                write(Random.Shared.Next(size));
            }

            return;
        }

        var picks = (int)Math.Min(count, size);
        _w.WriteArrayHeader(picks * entriesPerPick);
        if (picks == size)
        {
            for (var i = 0; i < size; i++)
            {
                write(i);
            }

            return;
        }

        if (picks <= size / 4)
        {
            // Few picks from many: draw and redraw repeats (on average under 4/3 draws a pick), no O(size) array.
            var drawn = new HashSet<int>(picks);
            while (drawn.Count < picks)
            {
                var position = Random.Shared.Next(size);
                if (drawn.Add(position))
                {
                    write(position);
                }
            }

            return;
        }

        // A partial Fisher-Yates over the positions: distinct, uniform; the array is at most 4 x picks.
        var positions = new int[size];
        for (var i = 0; i < size; i++)
        {
            positions[i] = i;
        }

        for (var i = 0; i < picks; i++)
        {
            var j = Random.Shared.Next(i, size);
            (positions[i], positions[j]) = (positions[j], positions[i]);
            write(positions[i]);
        }
    }

    private enum SetOperation
    {
        Inter,
        Union,
        Diff,
    }

    /// <summary>
    /// Loads the sets named by arguments <paramref name="first"/>.. (<paramref name="count"/> of them), the shards
    /// locked by the caller; a missing key is an empty set (null). False after replying WRONGTYPE.
    /// </summary>
    private bool TryLoadSets(int first, int count, out SetValue?[] sets)
    {
        sets = new SetValue?[count];
        for (var i = 0; i < count; i++)
        {
            var key = _req[first + i];
            var entry = _keyspace.ShardFor(key).Lookup(key, _now);
            if (entry is null)
            {
                continue;
            }

            if (entry.Value is not SetValue set)
            {
                _w.WriteRaw(Replies.WrongType);
                return false;
            }

            sets[i] = set;
        }

        return true;
    }

    private Keyspace.ShardLocks LockArguments(int first, int count, int extra = -1)
    {
        var indices = new int[count + (extra >= 0 ? 1 : 0)];
        for (var i = 0; i < count; i++)
        {
            indices[i] = Keyspace.ShardIndex(_req[first + i]);
        }

        if (extra >= 0)
        {
            indices[count] = Keyspace.ShardIndex(_req[extra]);
        }

        return _keyspace.LockShards(indices);
    }

    private static List<byte[]> Combine(SetOperation operation, SetValue?[] sets)
    {
        var result = new List<byte[]>();
        switch (operation)
        {
            case SetOperation.Inter:
                if (Array.Exists(sets, s => s is null))
                {
                    return result;
                }

                var smallest = sets.MinBy(s => s!.Count)!;
                foreach (var member in smallest)
                {
                    if (Array.TrueForAll(sets, s => ReferenceEquals(s, smallest) || s!.Contains(member)))
                    {
                        result.Add(member);
                    }
                }

                break;
            case SetOperation.Union:
                var seen = new HashSet<byte[]>(ByteArrayComparer.Instance);
                foreach (var set in sets)
                {
                    if (set is null)
                    {
                        continue;
                    }

                    foreach (var member in set)
                    {
                        if (seen.Add(member))
                        {
                            result.Add(member);
                        }
                    }
                }

                break;
            default:
                if (sets[0] is null)
                {
                    return result;
                }

                foreach (var member in sets[0]!)
                {
                    var keep = true;
                    for (var i = 1; i < sets.Length && keep; i++)
                    {
                        keep = sets[i] is null || !sets[i]!.Contains(member); // the first key named again removes everything
                    }

                    if (keep)
                    {
                        result.Add(member);
                    }
                }

                break;
        }

        return result;
    }

    /// <summary>What <see cref="Combine"/> examines: the smallest set once per set (SINTER), every member (SUNION), the first set once per set (SDIFF).</summary>
    private static long CombineWork(SetOperation operation, SetValue?[] sets) => operation switch
    {
        SetOperation.Inter => Array.Exists(sets, s => s is null) ? 0 : (long)sets.Min(s => s!.Count) * sets.Length,
        SetOperation.Union => sets.Sum(s => (long)(s?.Count ?? 0)),
        _ => (long)(sets[0]?.Count ?? 0) * sets.Length,
    };

    /// <summary>SINTER/SUNION/SDIFF key [key ...].</summary>
    private void SetCombine(SetOperation operation)
    {
        var count = _req.Count - 1;
        using var locks = LockArguments(1, count);
        if (!TryLoadSets(1, count, out var sets) || !WithinScanLimit(CombineWork(operation, sets), "members", "iterate with SSCAN instead"))
        {
            return;
        }

        var result = Combine(operation, sets);
        _w.WriteSetHeader(result.Count);
        foreach (var member in result)
        {
            _w.WriteBulk(member);
        }
    }

    /// <summary>SINTERSTORE/SUNIONSTORE/SDIFFSTORE destination key [key ...]: the destination is replaced whatever it held.</summary>
    private void SetCombineStore(SetOperation operation)
    {
        var count = _req.Count - 2;
        using var locks = LockArguments(2, count, extra: 1);
        if (!TryLoadSets(2, count, out var sets) || !WithinScanLimit(CombineWork(operation, sets), "members", "iterate with SSCAN instead"))
        {
            return;
        }

        var result = Combine(operation, sets);
        var destination = _req[1];
        var shard = _keyspace.ShardFor(destination);
        if (shard.Find(destination, _now) is { } old)
        {
            shard.Remove(old);
        }

        if (result.Count > 0)
        {
            var set = new SetValue();
            foreach (var member in result)
            {
                set.Add(member);
            }

            shard.Add(destination.ToArray(), set, _now);
        }

        _w.WriteInteger(result.Count);
    }

    /// <summary>SINTERCARD numkeys key [key ...] [LIMIT limit].</summary>
    private void SInterCard()
    {
        if (!TryArgNumKeys(1, out var count))
        {
            return;
        }

        long limit = 0;
        for (var i = 2 + count; i < _req.Count; i++)
        {
            if (Is(i, "LIMIT"u8) && i + 1 < _req.Count)
            {
                if (!TryArgInteger(++i, out limit))
                {
                    return;
                }

                if (limit < 0)
                {
                    _w.WriteError("ERR LIMIT can't be negative");
                    return;
                }
            }
            else
            {
                _w.WriteRaw(Replies.SyntaxError);
                return;
            }
        }

        using var locks = LockArguments(2, count);
        if (!TryLoadSets(2, count, out var sets))
        {
            return;
        }

        var result = Combine(SetOperation.Inter, sets).Count;
        _w.WriteInteger(limit > 0 ? Math.Min(limit, result) : result);
    }

    /// <summary>The numkeys argument of SINTERCARD, ZUNION, LMPOP...: positive and not past the arguments.</summary>
    private bool TryArgNumKeys(int index, out int count)
    {
        count = 0;
        if (!TryArgInteger(index, out var n))
        {
            return false;
        }

        if (n <= 0)
        {
            _w.WriteError("ERR numkeys should be greater than 0");
            return false;
        }

        if (n > _req.Count - index - 1)
        {
            _w.WriteError("ERR Number of keys can't be greater than number of args");
            return false;
        }

        count = (int)n;
        return true;
    }

    private void SMove()
    {
        var source = _req[1];
        var destination = _req[2];
        using var locks = _keyspace.LockShards([Keyspace.ShardIndex(source), Keyspace.ShardIndex(destination)]);
        if (!TryLoadSets(1, 2, out var sets))
        {
            return;
        }

        var from = sets[0];
        if (from is null || !from.Contains(_req[3]))
        {
            _w.WriteRaw(Replies.Zero);
            return;
        }

        if (ReferenceEquals(from, sets[1]))
        {
            _w.WriteRaw(Replies.One);
            return;
        }

        var sourceShard = _keyspace.ShardFor(source);
        var sourceEntry = sourceShard.Find(source, _now)!;
        from.Remove(_req[3]);
        SetChanged(sourceShard, sourceEntry, from);
        var destinationShard = _keyspace.ShardFor(destination);
        if (!TryGetSet(destinationShard, destination, create: true, out var entry, out var to))
        {
            return;
        }

        to!.Add(_req.ToArray(3));
        destinationShard.Resized(entry!);
        _w.WriteRaw(Replies.One);
    }

    /// <summary>
    /// SSCAN key cursor [MATCH pattern] [COUNT count]: the cursor counts down through the dense member list (see
    /// <see cref="SetValue"/>), so a member present for the whole scan is returned at least once.
    /// </summary>
    private void SScan()
    {
        if (!TryParseScanArguments(out var cursor, out var glob, out var count))
        {
            return;
        }

        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            if (!TryGetSet(shard, key, create: false, out _, out var set))
            {
                return;
            }

            var size = set?.Count ?? 0;
            var matches = new List<byte[]>();
            var position = cursor == 0 || cursor > (ulong)size ? size : (int)cursor;
            for (var examined = 0L; position > 0 && examined < count; examined++)
            {
                var member = set![--position];
                if (glob is null || glob.IsMatch(member))
                {
                    matches.Add(member);
                }
            }

            WriteScanReply(position, matches);
        }
    }

    /// <summary>The cursor, MATCH and COUNT of SSCAN/ZSCAN/HSCAN (COUNT capped to keys-max-scan, as SCAN's).</summary>
    private bool TryParseScanArguments(out ulong cursor, out Glob? glob, out long count)
    {
        glob = null;
        count = 10;
        if (!ulong.TryParse(_req.GetString(2), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out cursor))
        {
            _w.WriteRaw(Replies.InvalidCursor);
            return false;
        }

        for (var i = 3; i < _req.Count; i++)
        {
            if (Is(i, "MATCH"u8) && i + 1 < _req.Count)
            {
                glob = _req[++i].SequenceEqual("*"u8) ? null : Glob.Compile(_req[i]);
            }
            else if (Is(i, "COUNT"u8) && i + 1 < _req.Count)
            {
                if (!TryArgInteger(++i, out count))
                {
                    return false;
                }

                if (count < 1)
                {
                    _w.WriteRaw(Replies.SyntaxError);
                    return false;
                }
            }
            else
            {
                _w.WriteRaw(Replies.SyntaxError);
                return false;
            }
        }

        var limit = _server.Options.KeysMaxScan;
        if (limit > 0 && count > limit)
        {
            count = limit;
        }

        return true;
    }

    private void WriteScanReply(long nextCursor, List<byte[]> items)
    {
        _w.WriteArrayHeader(2);
        _w.WriteBulk(nextCursor);
        _w.WriteArrayHeader(items.Count);
        foreach (var item in items)
        {
            _w.WriteBulk(item);
        }
    }
}
