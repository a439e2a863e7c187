using Calc.Cache.Storage;

namespace Calc.Cache.Commands;

// List commands. An emptied list is deleted, as in Redis. Every command that adds elements to a list reports the key
// to the blocked clients (ListPushed), who are served once the command is done (RespSession.Blocking.cs).
internal sealed partial class RespSession
{
    /// <summary>The list at <paramref name="key"/>; replies WRONGTYPE and returns false for another type.</summary>
    private bool TryGetList(Shard shard, ReadOnlySpan<byte> key, bool create, out CacheEntry? entry, out ListValue? list)
    {
        entry = create ? shard.Find(key, _now) : shard.Lookup(key, _now);
        list = null;
        if (entry is null)
        {
            if (create)
            {
                list = new ListValue();
                entry = shard.Add(key.ToArray(), list, _now);
            }

            return true;
        }

        list = entry.Value as ListValue;
        if (list is null)
        {
            _w.WriteRaw(Replies.WrongType);
            return false;
        }

        return true;
    }

    /// <summary>After a change: deletes an emptied list, or fixes the memory accounting.</summary>
    private static void ListChanged(Shard shard, CacheEntry entry, ListValue list)
    {
        if (list.Count == 0)
        {
            shard.Remove(entry);
        }
        else
        {
            shard.Resized(entry);
        }
    }

    private void Push(bool left, bool onlyIfExists)
    {
        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            if (onlyIfExists)
            {
                var existing = shard.Find(key, _now);
                if (existing is null)
                {
                    _w.WriteRaw(Replies.Zero);
                    return;
                }

                if (existing.Value is not ListValue)
                {
                    _w.WriteRaw(Replies.WrongType);
                    return;
                }
            }

            if (!TryGetList(shard, key, create: true, out var entry, out var list))
            {
                return;
            }

            for (var i = 2; i < _req.Count; i++)
            {
                if (left)
                {
                    list!.PushLeft(_req.ToArray(i));
                }
                else
                {
                    list!.PushRight(_req.ToArray(i));
                }
            }

            shard.Resized(entry!);
            ListPushed(entry!.Key);
            _w.WriteInteger(list!.Count);
        }
    }

    private void Pop(bool left)
    {
        var hasCount = _req.Count == 3;
        if (_req.Count > 3)
        {
            WrongArity(left ? "lpop" : "rpop");
            return;
        }

        long count = 1;
        if (hasCount && !TryArgPositive(2, out count))
        {
            return;
        }

        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            if (!TryGetList(shard, key, create: false, out var entry, out var list))
            {
                return;
            }

            if (list is null)
            {
                if (hasCount)
                {
                    _w.WriteNullArray();
                }
                else
                {
                    _w.WriteNull();
                }

                return;
            }

            if (!hasCount)
            {
                _w.WriteBulk(left ? list.PopLeft() : list.PopRight());
                ListChanged(shard, entry!, list);
                return;
            }

            var n = (int)Math.Min(count, list.Count);
            _w.WriteArrayHeader(n);
            for (var i = 0; i < n; i++)
            {
                _w.WriteBulk(left ? list.PopLeft() : list.PopRight());
            }

            ListChanged(shard, entry!, list);
        }
    }

    /// <summary>Redis's getPositiveLongFromObjectOrReply for counts.</summary>
    private bool TryArgPositive(int index, out long value)
    {
        if (!TryArgInteger(index, out value))
        {
            return false;
        }

        if (value < 0)
        {
            _w.WriteError("ERR value is out of range, must be positive");
            return false;
        }

        return true;
    }

    /// <summary>Redis's list index rules: negative counts from the end; the range is clamped to the list.</summary>
    private static bool ClampRange(long start, long stop, int length, out int from, out int to)
    {
        if (start < 0)
        {
            start += length;
        }

        if (stop < 0)
        {
            stop += length;
        }

        if (start < 0)
        {
            start = 0;
        }

        if (start > stop || start >= length)
        {
            from = to = 0;
            return false;
        }

        if (stop >= length)
        {
            stop = length - 1;
        }

        from = (int)start;
        to = (int)stop;
        return true;
    }

    private void LRange()
    {
        if (!TryArgInteger(2, out var start) || !TryArgInteger(3, out var stop))
        {
            return;
        }

        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            if (!TryGetList(shard, key, create: false, out _, out var list))
            {
                return;
            }

            if (list is null || !ClampRange(start, stop, list.Count, out var from, out var to))
            {
                _w.WriteRaw(Replies.EmptyArray);
                return;
            }

            if (!WithinScanLimit(to - from + 1, "elements", "ask for a smaller range"))
            {
                return;
            }

            _w.WriteArrayHeader(to - from + 1);
            for (var i = from; i <= to; i++)
            {
                _w.WriteBulk(list[i]);
            }
        }
    }

    private void LLen()
    {
        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            if (TryGetList(shard, key, create: false, out _, out var list))
            {
                _w.WriteInteger(list?.Count ?? 0);
            }
        }
    }

    private void LIndex()
    {
        if (!TryArgInteger(2, out var index))
        {
            return;
        }

        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            if (!TryGetList(shard, key, create: false, out _, out var list))
            {
                return;
            }

            if (list is not null && index < 0)
            {
                index += list.Count;
            }

            if (list is null || index < 0 || index >= list.Count)
            {
                _w.WriteNull();
                return;
            }

            _w.WriteBulk(list[(int)index]);
        }
    }

    private void LSet()
    {
        if (!TryArgInteger(2, out var index))
        {
            return;
        }

        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            if (!TryGetList(shard, key, create: false, out var entry, out var list))
            {
                return;
            }

            if (list is null)
            {
                _w.WriteRaw(Replies.NoSuchKey);
                return;
            }

            if (index < 0)
            {
                index += list.Count;
            }

            if (index < 0 || index >= list.Count)
            {
                _w.WriteError("ERR index out of range");
                return;
            }

            list[(int)index] = _req.ToArray(3);
            shard.Resized(entry!);
            _w.WriteRaw(Replies.Ok);
        }
    }

    private void LRem()
    {
        if (!TryArgInteger(2, out var count))
        {
            return;
        }

        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            if (!TryGetList(shard, key, create: false, out var entry, out var list))
            {
                return;
            }

            if (list is null)
            {
                _w.WriteRaw(Replies.Zero);
                return;
            }

            // It may walk the whole list (keys-max-scan, WithinScanLimit).
            if (!WithinScanLimit(list.Count, "elements", "trim or split the list first"))
            {
                return;
            }

            var element = _req[3];
            long removed = 0;
            if (count >= 0)
            {
                for (var i = 0; i < list.Count && (count == 0 || removed < count);)
                {
                    if (list[i].AsSpan().SequenceEqual(element))
                    {
                        list.RemoveAt(i);
                        removed++;
                    }
                    else
                    {
                        i++;
                    }
                }
            }
            else
            {
                for (var i = list.Count - 1; i >= 0 && removed < -count; i--)
                {
                    if (list[i].AsSpan().SequenceEqual(element))
                    {
                        list.RemoveAt(i);
                        removed++;
                    }
                }
            }

            ListChanged(shard, entry!, list);
            _w.WriteInteger(removed);
        }
    }

    private void LTrim()
    {
        if (!TryArgInteger(2, out var start) || !TryArgInteger(3, out var stop))
        {
            return;
        }

        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            if (!TryGetList(shard, key, create: false, out var entry, out var list))
            {
                return;
            }

            if (list is not null)
            {
                if (ClampRange(start, stop, list.Count, out var from, out var to))
                {
                    list.Trim(from, to);
                    shard.Resized(entry!);
                }
                else
                {
                    shard.Remove(entry!);
                }
            }

            _w.WriteRaw(Replies.Ok);
        }
    }

    private void LInsert()
    {
        var before = Is(2, "BEFORE"u8);
        if (!before && !Is(2, "AFTER"u8))
        {
            _w.WriteRaw(Replies.SyntaxError);
            return;
        }

        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            if (!TryGetList(shard, key, create: false, out var entry, out var list))
            {
                return;
            }

            if (list is null)
            {
                _w.WriteRaw(Replies.Zero);
                return;
            }

            // The pivot may be anywhere (keys-max-scan, WithinScanLimit).
            if (!WithinScanLimit(list.Count, "elements", "trim or split the list first"))
            {
                return;
            }

            var pivot = _req[3];
            for (var i = 0; i < list.Count; i++)
            {
                if (list[i].AsSpan().SequenceEqual(pivot))
                {
                    list.Insert(before ? i : i + 1, _req.ToArray(4));
                    shard.Resized(entry!);
                    ListPushed(entry!.Key);
                    _w.WriteInteger(list.Count);
                    return;
                }
            }

            _w.WriteRaw(Replies.MinusOne);
        }
    }

    private void LPos()
    {
        long rank = 1, count = -1, maxLen = 0;
        for (var i = 3; i < _req.Count; i++)
        {
            if (i + 1 >= _req.Count)
            {
                _w.WriteRaw(Replies.SyntaxError);
                return;
            }

            if (Is(i, "RANK"u8))
            {
                if (!TryArgInteger(++i, out rank))
                {
                    return;
                }

                if (rank == 0)
                {
                    _w.WriteError("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list");
                    return;
                }
            }
            else if (Is(i, "COUNT"u8))
            {
                if (!TryArgInteger(++i, out count))
                {
                    return;
                }

                if (count < 0)
                {
                    _w.WriteError("ERR COUNT can't be negative");
                    return;
                }
            }
            else if (Is(i, "MAXLEN"u8))
            {
                if (!TryArgInteger(++i, out maxLen))
                {
                    return;
                }

                if (maxLen < 0)
                {
                    _w.WriteError("ERR MAXLEN can't be negative");
                    return;
                }
            }
            else
            {
                _w.WriteRaw(Replies.SyntaxError);
                return;
            }
        }

        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            if (!TryGetList(shard, key, create: false, out _, out var list))
            {
                return;
            }

            // The walk goes as far as MAXLEN, or else the whole list (keys-max-scan, WithinScanLimit).
            if (list is not null && !WithinScanLimit(maxLen == 0 ? list.Count : Math.Min(maxLen, list.Count), "elements", "give a MAXLEN"))
            {
                return;
            }

            var matches = new List<long>();
            if (list is not null)
            {
                var element = _req[2];
                var skip = rank > 0 ? rank - 1 : -(rank + 1);
                var wanted = count < 0 ? 1 : count;
                var n = list.Count;
                for (long step = 0; step < n && (maxLen == 0 || step < maxLen); step++)
                {
                    var index = rank > 0 ? step : n - 1 - step;
                    if (!list[(int)index].AsSpan().SequenceEqual(element))
                    {
                        continue;
                    }

                    if (skip > 0)
                    {
                        skip--;
                        continue;
                    }

                    matches.Add(index);
                    if (wanted != 0 && matches.Count >= wanted)
                    {
                        break;
                    }
                }
            }

            if (count < 0)
            {
                if (matches.Count == 0)
                {
                    _w.WriteNull();
                }
                else
                {
                    _w.WriteInteger(matches[0]);
                }

                return;
            }

            _w.WriteArrayHeader(matches.Count);
            foreach (var index in matches)
            {
                _w.WriteInteger(index);
            }
        }
    }

    private bool TryArgSide(int index, out bool left)
    {
        left = Is(index, "LEFT"u8);
        if (left || Is(index, "RIGHT"u8))
        {
            return true;
        }

        _w.WriteRaw(Replies.SyntaxError);
        return false;
    }

    /// <summary>
    /// LMPOP/ZMPOP's <c>numkeys key [key ...] LEFT|RIGHT (MIN|MAX) [COUNT count]</c> from <paramref name="numKeysIndex"/>,
    /// with Redis's checks in its order and its texts. <paramref name="firstSide"/> is true for LEFT (MIN).
    /// </summary>
    private bool TryParseMPopArguments(int numKeysIndex, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, out int keyCount, out bool firstSide, out long count)
    {
        keyCount = 0;
        firstSide = false;
        count = 1;
        if (!TryParseInteger(_req[numKeysIndex], out var numKeys) || numKeys < 1)
        {
            _w.WriteError("ERR numkeys should be greater than 0");
            return false;
        }

        var sideIndex = numKeysIndex + 1 + numKeys;
        if (numKeys > _req.Count || sideIndex >= _req.Count)
        {
            _w.WriteRaw(Replies.SyntaxError);
            return false;
        }

        firstSide = Is((int)sideIndex, first);
        if (!firstSide && !Is((int)sideIndex, second))
        {
            _w.WriteRaw(Replies.SyntaxError);
            return false;
        }

        var hasCount = false;
        for (var i = (int)sideIndex + 1; i < _req.Count; i++)
        {
            if (!hasCount && Is(i, "COUNT"u8) && i + 1 < _req.Count)
            {
                if (!TryParseInteger(_req[++i], out count) || count < 1)
                {
                    _w.WriteError("ERR count should be greater than 0");
                    return false;
                }

                hasCount = true;
            }
            else
            {
                _w.WriteRaw(Replies.SyntaxError);
                return false;
            }
        }

        keyCount = (int)numKeys;
        return true;
    }

    /// <summary>
    /// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count], and BLMPOP timeout numkeys ...: pops up to count elements
    /// from the first non-empty list of the keys, answering [key, [elements]]; when every key is empty, the null array
    /// (LMPOP, or BLMPOP inside EXEC or a script) or BLMPOP blocks as BLPOP does (<see cref="BlockingPop"/>).
    /// </summary>
    private void LMPop(bool blocking)
    {
        var first = blocking ? 3 : 2;
        if (!TryParseMPopArguments(first - 1, "LEFT"u8, "RIGHT"u8, out var keyCount, out var left, out var count))
        {
            return;
        }

        long timeout = 0;
        if (blocking && !TryArgTimeout(1, out timeout))
        {
            return;
        }

        using var locks = LockArguments(first, keyCount);
        if (!TryFindFirstExisting<ListValue>(first, keyCount, out var key, out var shard, out var entry, out var list))
        {
            return;
        }

        if (list is not null)
        {
            var n = (int)Math.Min(count, list.Count);
            _w.WriteArrayHeader(2);
            _w.WriteBulk(key);
            _w.WriteArrayHeader(n);
            for (var j = 0; j < n; j++)
            {
                _w.WriteBulk(left ? list.PopLeft() : list.PopRight());
            }

            ListChanged(shard!, entry!, list);
            _logAs = [left ? "LPOP"u8.ToArray() : "RPOP"u8.ToArray(), key.ToArray(), CountArgument(n)];
            return;
        }

        _logNothing = true;
        if (!blocking || WakeBlocked is null || _exclusive) // inside EXEC (and scripts) a pop never blocks, as in Redis
        {
            _w.WriteNullArray();
            return;
        }

        var keys = new byte[keyCount][];
        for (var i = 0; i < keyCount; i++)
        {
            keys[i] = _req.ToArray(first + i);
        }

        Block(new BlockedPop(_keyspace.Blocking, keys, left, null, false, WakeBlocked, (int)Math.Min(count, int.MaxValue)), timeout);
    }

    /// <summary>
    /// The first of the <paramref name="count"/> keys from argument <paramref name="first"/> that exists (their shards
    /// locked by the caller), as the multi-key pops look for one; <paramref name="value"/> null when none does. False
    /// after replying WRONGTYPE for a key of another type met first.
    /// </summary>
    private bool TryFindFirstExisting<T>(int first, int count, out ReadOnlySpan<byte> key, out Shard? shard, out CacheEntry? entry, out T? value)
        where T : CollectionValue
    {
        for (var i = first; i < first + count; i++)
        {
            key = _req[i];
            shard = _keyspace.ShardFor(key);
            entry = shard.Find(key, _now);
            if (entry is null)
            {
                continue;
            }

            value = entry.Value as T;
            if (value is null)
            {
                _w.WriteRaw(Replies.WrongType);
                return false;
            }

            return true;
        }

        key = default;
        shard = null;
        entry = null;
        value = null;
        return true;
    }

    private static byte[] CountArgument(int count) => System.Text.Encoding.ASCII.GetBytes(count.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>LMOVE and RPOPLPUSH.</summary>
    private void LMove(bool legacy)
    {
        bool fromLeft = false, toLeft = true;
        if (!legacy && (!TryArgSide(3, out fromLeft) || !TryArgSide(4, out toLeft)))
        {
            return;
        }

        var value = MoveOne(_req[1], _req[2], fromLeft, toLeft, out var wrongType);
        if (wrongType)
        {
            _w.WriteRaw(Replies.WrongType);
        }
        else if (value is null)
        {
            _w.WriteNull();
        }
        else
        {
            _w.WriteBulk(value);
        }
    }

    /// <summary>
    /// Moves one element between lists, both shards locked; null when the source is missing. WRONGTYPE when either key
    /// holds another type (the source is checked first, as Redis does; a missing source wins over a wrong destination).
    /// </summary>
    private byte[]? MoveOne(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, bool fromLeft, bool toLeft, out bool wrongType)
    {
        wrongType = false;
        using var locks = _keyspace.LockShards([Keyspace.ShardIndex(source), Keyspace.ShardIndex(destination)]);
        var sourceShard = _keyspace.ShardFor(source);
        var sourceEntry = sourceShard.Find(source, _now);
        if (sourceEntry is null)
        {
            return null;
        }

        if (sourceEntry.Value is not ListValue from)
        {
            wrongType = true;
            return null;
        }

        var destinationShard = _keyspace.ShardFor(destination);
        var destinationEntry = destinationShard.Find(destination, _now);
        if (destinationEntry is not null && destinationEntry.Value is not ListValue)
        {
            wrongType = true;
            return null;
        }

        var value = fromLeft ? from.PopLeft() : from.PopRight();
        ListChanged(sourceShard, sourceEntry, from);
        if (destinationShard.Find(destination, _now) is not { Value: ListValue } target)
        {
            target = destinationShard.Add(destination.ToArray(), new ListValue(), _now);
        }

        var to = (ListValue)target.Value;
        if (toLeft)
        {
            to.PushLeft(value);
        }
        else
        {
            to.PushRight(value);
        }

        destinationShard.Resized(target);
        ListPushed(target.Key);
        return value;
    }
}
