using System.Globalization;
using System.Text;
using Calc.Cache.Storage;

namespace Calc.Cache.Commands;

// Sorted set commands. An emptied sorted set is deleted, as in Redis. Scores print as Redis 7.0 prints them (%.17g).
internal sealed partial class RespSession
{
    private enum RangeKind
    {
        Rank,
        Score,
        Lex,
    }

    private enum Aggregate
    {
        Sum,
        Min,
        Max,
    }

    /// <summary>One end of a BYSCORE or BYLEX range.</summary>
    private readonly record struct RangeBound(double Score, byte[]? Member, bool Exclusive, bool Infinite, bool Positive);

    /// <summary>The sorted set at <paramref name="key"/>; replies WRONGTYPE and returns false for another type.</summary>
    private bool TryGetZSet(Shard shard, ReadOnlySpan<byte> key, bool create, out CacheEntry? entry, out SortedSetValue? zset)
    {
        entry = create ? shard.Find(key, _now) : shard.Lookup(key, _now);
        zset = null;
        if (entry is null)
        {
            if (create)
            {
                zset = new SortedSetValue();
                entry = shard.Add(key.ToArray(), zset, _now);
            }

            return true;
        }

        zset = entry.Value as SortedSetValue;
        if (zset is null)
        {
            _w.WriteRaw(Replies.WrongType);
            return false;
        }

        return true;
    }

    private static void ZSetChanged(Shard shard, CacheEntry entry, SortedSetValue zset)
    {
        if (zset.Count == 0)
        {
            shard.Remove(entry);
        }
        else
        {
            shard.Resized(entry);
        }
    }

    /// <summary>Redis 7.0's addReplyDouble text: %.17g, inf and -inf.</summary>
    internal static string FormatScore(double score)
    {
        if (double.IsPositiveInfinity(score))
        {
            return "inf";
        }

        if (double.IsNegativeInfinity(score))
        {
            return "-inf";
        }

        if (score == 0)
        {
            return "0"; // -0 too, as Redis prints it
        }

        return score.ToString("G17", CultureInfo.InvariantCulture).Replace('E', 'e');
    }

    private void WriteScore(double score)
    {
        var text = System.Text.Encoding.ASCII.GetBytes(FormatScore(score));
        if (Protocol == 3)
        {
            _w.WriteRaw(","u8);
            _w.WriteRaw(text);
            _w.WriteRaw("\r\n"u8);
        }
        else
        {
            _w.WriteBulk(text);
        }
    }

    private bool TryArgScore(int index, out double score)
    {
        if (TryParseDouble(_req[index], out score) || TryParseInfinity(_req[index], out score))
        {
            return true;
        }

        _w.WriteRaw(Replies.NotFloat);
        return false;
    }

    private static bool TryParseInfinity(ReadOnlySpan<byte> text, out double value)
    {
        value = 0;
        if (Ascii.EqualsIgnoreCase(text, "inf"u8) || Ascii.EqualsIgnoreCase(text, "+inf"u8) || Ascii.EqualsIgnoreCase(text, "infinity"u8) || Ascii.EqualsIgnoreCase(text, "+infinity"u8))
        {
            value = double.PositiveInfinity;
            return true;
        }

        if (Ascii.EqualsIgnoreCase(text, "-inf"u8) || Ascii.EqualsIgnoreCase(text, "-infinity"u8))
        {
            value = double.NegativeInfinity;
            return true;
        }

        return false;
    }

    private void ZAdd()
    {
        bool nx = false, xx = false, gt = false, lt = false, ch = false, incr = false;
        var i = 2;
        for (; i < _req.Count; i++)
        {
            if (Is(i, "NX"u8)) { nx = true; }
            else if (Is(i, "XX"u8)) { xx = true; }
            else if (Is(i, "GT"u8)) { gt = true; }
            else if (Is(i, "LT"u8)) { lt = true; }
            else if (Is(i, "CH"u8)) { ch = true; }
            else if (Is(i, "INCR"u8)) { incr = true; }
            else { break; }
        }

        var pairs = _req.Count - i;
        if (pairs == 0 || pairs % 2 != 0)
        {
            _w.WriteRaw(Replies.SyntaxError);
            return;
        }

        if (nx && xx)
        {
            _w.WriteError("ERR XX and NX options at the same time are not compatible");
            return;
        }

        if ((gt && nx) || (lt && nx) || (gt && lt))
        {
            _w.WriteError("ERR GT, LT, and/or NX options at the same time are not compatible");
            return;
        }

        if (incr && pairs > 2)
        {
            _w.WriteError("ERR INCR option supports a single increment-element pair");
            return;
        }

        var scores = new double[pairs / 2];
        for (var p = 0; p < scores.Length; p++)
        {
            if (!TryArgScore(i + (2 * p), out scores[p]))
            {
                return;
            }
        }

        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            var existing = shard.Find(key, _now);
            if (existing is not null && existing.Value is not SortedSetValue)
            {
                _w.WriteRaw(Replies.WrongType);
                return;
            }

            if (existing is null && xx)
            {
                if (incr)
                {
                    _w.WriteNull();
                }
                else
                {
                    _w.WriteRaw(Replies.Zero);
                }

                return;
            }

            TryGetZSet(shard, key, create: true, out var entry, out var zset);
            long added = 0, changed = 0;
            double result = 0;
            var aborted = false;
            for (var p = 0; p < scores.Length; p++)
            {
                var member = _req[i + (2 * p) + 1];
                var score = scores[p];
                if (zset!.TryGetScore(member, out var current))
                {
                    if (nx)
                    {
                        aborted = true;
                        continue;
                    }

                    if (incr)
                    {
                        score += current;
                        if (double.IsNaN(score))
                        {
                            _w.WriteError("ERR resulting score is not a number (NaN)");
                            ZSetChanged(shard, entry!, zset);
                            return;
                        }
                    }

                    if ((gt && score <= current) || (lt && score >= current))
                    {
                        aborted = true;
                        continue;
                    }

                    result = score;
                    if (!score.Equals(current))
                    {
                        zset.Set(member, score);
                        changed++;
                    }
                }
                else
                {
                    if (xx)
                    {
                        aborted = true;
                        continue;
                    }

                    result = score;
                    zset.Set(member, score);
                    added++;
                }
            }

            ZSetChanged(shard, entry!, zset!);
            if (incr)
            {
                if (aborted)
                {
                    _w.WriteNull();
                }
                else
                {
                    WriteScore(result);
                }

                return;
            }

            _w.WriteInteger(ch ? added + changed : added);
        }
    }

    private void ZIncrBy()
    {
        if (!TryArgScore(2, out var delta))
        {
            return;
        }

        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            if (!TryGetZSet(shard, key, create: true, out var entry, out var zset))
            {
                return;
            }

            var score = zset!.TryGetScore(_req[3], out var current) ? current + delta : delta;
            if (double.IsNaN(score))
            {
                _w.WriteError("ERR resulting score is not a number (NaN)");
                ZSetChanged(shard, entry!, zset);
                return;
            }

            zset.Set(_req[3], score);
            ZSetChanged(shard, entry!, zset);
            WriteScore(score);
        }
    }

    private void ZRem()
    {
        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            if (!TryGetZSet(shard, key, create: false, out var entry, out var zset))
            {
                return;
            }

            long removed = 0;
            if (zset is not null)
            {
                for (var i = 2; i < _req.Count; i++)
                {
                    if (zset.Remove(_req[i]))
                    {
                        removed++;
                    }
                }

                ZSetChanged(shard, entry!, zset);
            }

            _w.WriteInteger(removed);
        }
    }

    private void ZScore(bool many)
    {
        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            if (!TryGetZSet(shard, key, create: false, out _, out var zset))
            {
                return;
            }

            if (many)
            {
                _w.WriteArrayHeader(_req.Count - 2);
            }

            for (var i = 2; i < _req.Count; i++)
            {
                if (zset is not null && zset.TryGetScore(_req[i], out var score))
                {
                    WriteScore(score);
                }
                else
                {
                    _w.WriteNull();
                }
            }
        }
    }

    private void ZCard()
    {
        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            if (TryGetZSet(shard, key, create: false, out _, out var zset))
            {
                _w.WriteInteger(zset?.Count ?? 0);
            }
        }
    }

    private void ZRank(bool reverse)
    {
        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            if (!TryGetZSet(shard, key, create: false, out _, out var zset))
            {
                return;
            }

            var rank = zset?.Rank(_req[2]) ?? -1;
            if (rank < 0)
            {
                _w.WriteNull();
            }
            else
            {
                _w.WriteInteger(reverse ? zset!.Count - 1 - rank : rank);
            }
        }
    }

    private bool TryParseScoreBound(int index, out RangeBound bound)
    {
        var text = _req[index];
        var exclusive = text.Length > 0 && text[0] == (byte)'(';
        var number = exclusive ? text[1..] : text;
        if (!TryParseDouble(number, out var score) && !TryParseInfinity(number, out score))
        {
            bound = default;
            _w.WriteError("ERR min or max is not a float");
            return false;
        }

        bound = new RangeBound(score, null, exclusive, false, false);
        return true;
    }

    private bool TryParseLexBound(int index, out RangeBound bound)
    {
        var text = _req[index];
        bound = default;
        if (text.Length == 1 && text[0] is (byte)'+' or (byte)'-')
        {
            bound = new RangeBound(0, null, false, true, text[0] == (byte)'+');
            return true;
        }

        if (text.Length >= 1 && text[0] is (byte)'(' or (byte)'[')
        {
            bound = new RangeBound(0, text[1..].ToArray(), text[0] == (byte)'(', false, false);
            return true;
        }

        _w.WriteError("ERR min or max not valid string range item");
        return false;
    }

    private static bool AboveMin(in ScoredMember item, RangeKind kind, in RangeBound min) => kind == RangeKind.Score
        ? (min.Exclusive ? item.Score > min.Score : item.Score >= min.Score)
        : min.Infinite ? !min.Positive : (min.Exclusive ? item.Member.AsSpan().SequenceCompareTo(min.Member) > 0 : item.Member.AsSpan().SequenceCompareTo(min.Member) >= 0);

    private static bool BelowMax(in ScoredMember item, RangeKind kind, in RangeBound max) => kind == RangeKind.Score
        ? (max.Exclusive ? item.Score < max.Score : item.Score <= max.Score)
        : max.Infinite ? max.Positive : (max.Exclusive ? item.Member.AsSpan().SequenceCompareTo(max.Member) < 0 : item.Member.AsSpan().SequenceCompareTo(max.Member) <= 0);

    /// <summary>
    /// The members of a BYSCORE/BYLEX range in order (descending when <paramref name="reverse"/>), after skipping
    /// <paramref name="offset"/> and taking at most <paramref name="limit"/> (negative: all).
    /// </summary>
    private static List<ScoredMember> SelectByValue(SortedSetValue zset, RangeKind kind, RangeBound min, RangeBound max, bool reverse, long offset, long limit)
    {
        var result = new List<ScoredMember>();
        if (offset < 0 || limit == 0)
        {
            return result;
        }

        var start = reverse
            ? zset.CountBefore(x => !BelowMax(x, kind, max)) - 1
            : zset.CountBefore(x => AboveMin(x, kind, min));
        if (start < 0 || start >= zset.Count)
        {
            return result;
        }

        foreach (var item in zset.From(start, reverse))
        {
            if (reverse ? !AboveMin(item, kind, min) : !BelowMax(item, kind, max))
            {
                break;
            }

            if (offset > 0)
            {
                offset--;
                continue;
            }

            result.Add(item);
            if (limit > 0 && result.Count >= limit)
            {
                break;
            }
        }

        return result;
    }

    private static List<ScoredMember> SelectByRank(SortedSetValue zset, long start, long stop, bool reverse)
    {
        var result = new List<ScoredMember>();
        if (!ClampRange(start, stop, zset.Count, out var from, out var to))
        {
            return result;
        }

        var first = reverse ? zset.Count - 1 - from : from;
        foreach (var item in zset.From(first, reverse))
        {
            result.Add(item);
            if (result.Count > to - from)
            {
                break;
            }
        }

        return result;
    }

    /// <summary>
    /// ZRANGE and its legacy forms, and ZRANGESTORE. <paramref name="first"/> is the source key's argument; the range
    /// arguments follow it. Legacy forms fix the kind and direction; options come after the range.
    /// </summary>
    private void ZRangeGeneric(int first, RangeKind kind, bool reverse, bool store, string name)
    {
        var withScores = false;
        long offset = 0, limit = -1;
        var hasLimit = false;
        var legacy = name != "zrange" && name != "zrangestore";
        for (var i = first + 3; i < _req.Count; i++)
        {
            if (!legacy && Is(i, "BYSCORE"u8))
            {
                kind = RangeKind.Score;
            }
            else if (!legacy && Is(i, "BYLEX"u8))
            {
                kind = RangeKind.Lex;
            }
            else if (!legacy && Is(i, "REV"u8))
            {
                reverse = true;
            }
            else if (!store && Is(i, "WITHSCORES"u8) && !(legacy && kind == RangeKind.Lex))
            {
                withScores = true;
            }
            else if (Is(i, "LIMIT"u8) && i + 2 < _req.Count && (!legacy || kind != RangeKind.Rank))
            {
                if (!TryArgInteger(i + 1, out offset) || !TryArgInteger(i + 2, out limit))
                {
                    return;
                }

                hasLimit = true;
                i += 2;
            }
            else
            {
                _w.WriteRaw(Replies.SyntaxError);
                return;
            }
        }

        if (hasLimit && kind == RangeKind.Rank)
        {
            _w.WriteError("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
            return;
        }

        if (withScores && kind == RangeKind.Lex)
        {
            _w.WriteError("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
            return;
        }

        // With REV (and in ZREVRANGEBYSCORE/BYLEX) the first bound given is the maximum.
        var (minIndex, maxIndex) = reverse && kind != RangeKind.Rank ? (first + 2, first + 1) : (first + 1, first + 2);
        long start = 0, stop = 0;
        RangeBound min = default, max = default;
        switch (kind)
        {
            case RangeKind.Rank:
                if (!TryArgInteger(first + 1, out start) || !TryArgInteger(first + 2, out stop))
                {
                    return;
                }

                break;
            case RangeKind.Score:
                if (!TryParseScoreBound(minIndex, out min) || !TryParseScoreBound(maxIndex, out max))
                {
                    return;
                }

                break;
            default:
                if (!TryParseLexBound(minIndex, out min) || !TryParseLexBound(maxIndex, out max))
                {
                    return;
                }

                break;
        }

        if (store)
        {
            var destination = _req[1];
            var source = _req[2];
            using var locks = _keyspace.LockShards([Keyspace.ShardIndex(source), Keyspace.ShardIndex(destination)]);
            if (!TryGetZSet(_keyspace.ShardFor(source), source, create: false, out _, out var from))
            {
                return;
            }

            var items = from is null ? [] : kind == RangeKind.Rank ? SelectByRank(from, start, stop, reverse) : SelectByValue(from, kind, min, max, reverse, offset, limit);
            StoreZSet(destination, items);
            _w.WriteInteger(items.Count);
            return;
        }

        var key = _req[first];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            if (!TryGetZSet(shard, key, create: false, out _, out var zset))
            {
                return;
            }

            if (zset is not null && kind == RangeKind.Rank && ClampRange(start, stop, zset.Count, out var from, out var to)
                && !WithinScanLimit(to - from + 1, "members", "ask for a smaller range"))
            {
                return;
            }

            var items = zset is null ? [] : kind == RangeKind.Rank ? SelectByRank(zset, start, stop, reverse) : SelectByValue(zset, kind, min, max, reverse, offset, limit);
            WriteScored(items, withScores);
        }
    }

    /// <summary>Members, with scores as pairs in RESP3 and flat in RESP2 (as Redis 7).</summary>
    private void WriteScored(List<ScoredMember> items, bool withScores)
    {
        if (!withScores)
        {
            _w.WriteArrayHeader(items.Count);
            foreach (var item in items)
            {
                _w.WriteBulk(item.Member);
            }

            return;
        }

        _w.WriteArrayHeader(Protocol == 3 ? items.Count : items.Count * 2);
        foreach (var item in items)
        {
            if (Protocol == 3)
            {
                _w.WriteArrayHeader(2);
            }

            _w.WriteBulk(item.Member);
            WriteScore(item.Score);
        }
    }

    /// <summary>Replaces <paramref name="destination"/> (shard locked) by a sorted set of <paramref name="items"/>, or deletes it if none.</summary>
    private void StoreZSet(ReadOnlySpan<byte> destination, List<ScoredMember> items)
    {
        var shard = _keyspace.ShardFor(destination);
        if (shard.Find(destination, _now) is { } old)
        {
            shard.Remove(old);
        }

        if (items.Count == 0)
        {
            return;
        }

        var zset = new SortedSetValue();
        foreach (var item in items)
        {
            zset.Set(item.Member, item.Score);
        }

        shard.Add(destination.ToArray(), zset, _now);
    }

    private void ZCount(RangeKind kind)
    {
        RangeBound min, max;
        if (kind == RangeKind.Score ? !TryParseScoreBound(2, out min) || !TryParseScoreBound(3, out max) : !TryParseLexBound(2, out min) || !TryParseLexBound(3, out max))
        {
            return;
        }

        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            if (!TryGetZSet(shard, key, create: false, out _, out var zset))
            {
                return;
            }

            if (zset is null)
            {
                _w.WriteRaw(Replies.Zero);
                return;
            }

            var from = zset.CountBefore(x => AboveMin(x, kind, min));
            var to = zset.CountBefore(x => !BelowMax(x, kind, max));
            _w.WriteInteger(Math.Max(0, to - from));
        }
    }

    /// <summary>ZREMRANGEBYSCORE / ZREMRANGEBYLEX / ZREMRANGEBYRANK.</summary>
    private void ZRemRange(RangeKind kind)
    {
        long start = 0, stop = 0;
        RangeBound min = default, max = default;
        var parsed = kind switch
        {
            RangeKind.Rank => TryArgInteger(2, out start) && TryArgInteger(3, out stop),
            RangeKind.Score => TryParseScoreBound(2, out min) && TryParseScoreBound(3, out max),
            _ => TryParseLexBound(2, out min) && TryParseLexBound(3, out max),
        };
        if (!parsed)
        {
            return;
        }

        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            if (!TryGetZSet(shard, key, create: false, out var entry, out var zset))
            {
                return;
            }

            if (zset is null)
            {
                _w.WriteRaw(Replies.Zero);
                return;
            }

            var items = kind == RangeKind.Rank ? SelectByRank(zset, start, stop, reverse: false) : SelectByValue(zset, kind, min, max, false, 0, -1);
            foreach (var item in items)
            {
                zset.Remove(item.Member);
            }

            ZSetChanged(shard, entry!, zset);
            _w.WriteInteger(items.Count);
        }
    }

    /// <summary>
    /// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]: pops up to count members from the first non-empty sorted set
    /// of the keys, answering [key, [[member, score], ...]] (pairs in RESP2 too, as Redis), or the null array.
    /// </summary>
    private void ZMPop()
    {
        if (!TryParseMPopArguments(1, "MIN"u8, "MAX"u8, out var keyCount, out var min, out var count))
        {
            return;
        }

        using var locks = LockArguments(2, keyCount);
        if (!TryFindFirstExisting<SortedSetValue>(2, keyCount, out var key, out var shard, out var entry, out var zset))
        {
            return;
        }

        if (zset is not null)
        {
            var n = (int)Math.Min(count, zset.Count);
            _w.WriteArrayHeader(2);
            _w.WriteBulk(key);
            _w.WriteArrayHeader(n);
            for (var j = 0; j < n; j++)
            {
                var item = zset.At(min ? 0 : zset.Count - 1);
                zset.Remove(item.Member);
                _w.WriteArrayHeader(2);
                _w.WriteBulk(item.Member);
                WriteScore(item.Score);
            }

            ZSetChanged(shard!, entry!, zset);
            _logAs = [min ? "ZPOPMIN"u8.ToArray() : "ZPOPMAX"u8.ToArray(), key.ToArray(), CountArgument(n)];
            return;
        }

        _logNothing = true;
        _w.WriteNullArray();
    }

    private void ZPop(bool max)
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
            if (!TryGetZSet(shard, key, create: false, out var entry, out var zset))
            {
                return;
            }

            var items = new List<ScoredMember>();
            if (zset is not null)
            {
                var n = (int)Math.Min(count, zset.Count);
                for (var i = 0; i < n; i++)
                {
                    var item = zset.At(max ? zset.Count - 1 : 0);
                    zset.Remove(item.Member);
                    items.Add(item);
                }

                ZSetChanged(shard, entry!, zset);
            }

            if (hasCount || Protocol == 2)
            {
                WriteScored(items, withScores: true);
                return;
            }

            // RESP3 without a count: one flat [member, score] pair, or an empty array.
            _w.WriteArrayHeader(items.Count == 0 ? 0 : 2);
            if (items.Count > 0)
            {
                _w.WriteBulk(items[0].Member);
                WriteScore(items[0].Score);
            }
        }
    }

    private void ZRandMember()
    {
        long count = 1;
        var withScores = false;
        if (_req.Count >= 3)
        {
            if (!TryArgInteger(2, out count))
            {
                return;
            }

            if (_req.Count == 4 && Is(3, "WITHSCORES"u8))
            {
                withScores = true;
            }
            else if (_req.Count > 3)
            {
                _w.WriteRaw(Replies.SyntaxError);
                return;
            }

            if (count == long.MinValue || (withScores && (count < -(long.MaxValue / 2) || count > long.MaxValue / 2)))
            {
                _w.WriteError("ERR value is out of range");
                return;
            }
        }

        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            if (!TryGetZSet(shard, key, create: false, out _, out var zset))
            {
                return;
            }

            if (_req.Count == 2)
            {
                if (zset is null)
                {
                    _w.WriteNull();
                }
                else
                {
                    _w.WriteBulk(zset.Dense(Random.Shared.Next(zset.Count)).Member);
                }

                return;
            }

            if (zset is null || count == 0)
            {
                _w.WriteRaw(Replies.EmptyArray);
                return;
            }

            var resp3Pairs = withScores && Protocol == 3;
            WriteRandomPicks(zset.Count, count, Pick, "members", withScores && !resp3Pairs ? 2 : 1);

            void Pick(int i)
            {
                var item = zset.Dense(i);
                if (resp3Pairs)
                {
                    _w.WriteArrayHeader(2);
                }

                _w.WriteBulk(item.Member);
                if (withScores)
                {
                    WriteScore(item.Score);
                }
            }
        }
    }

    /// <summary>ZUNION/ZINTER/ZDIFF [STORE]: <paramref name="first"/> is the numkeys argument.</summary>
    private void ZCombine(SetOperation operation, bool store)
    {
        var first = store ? 2 : 1;
        if (!TryArgZNumKeys(first, out var count))
        {
            return;
        }

        var weights = new double[count];
        Array.Fill(weights, 1);
        var aggregate = Aggregate.Sum;
        var withScores = false;
        for (var i = first + 1 + count; i < _req.Count; i++)
        {
            if (operation != SetOperation.Diff && Is(i, "WEIGHTS"u8) && i + count < _req.Count)
            {
                for (var w = 0; w < count; w++)
                {
                    if (!TryParseDouble(_req[i + 1 + w], out weights[w]) && !TryParseInfinity(_req[i + 1 + w], out weights[w]))
                    {
                        _w.WriteError("ERR weight value is not a float");
                        return;
                    }
                }

                i += count;
            }
            else if (operation != SetOperation.Diff && Is(i, "AGGREGATE"u8) && i + 1 < _req.Count)
            {
                i++;
                if (Is(i, "SUM"u8))
                {
                    aggregate = Aggregate.Sum;
                }
                else if (Is(i, "MIN"u8))
                {
                    aggregate = Aggregate.Min;
                }
                else if (Is(i, "MAX"u8))
                {
                    aggregate = Aggregate.Max;
                }
                else
                {
                    _w.WriteRaw(Replies.SyntaxError);
                    return;
                }
            }
            else if (!store && Is(i, "WITHSCORES"u8))
            {
                withScores = true;
            }
            else
            {
                _w.WriteRaw(Replies.SyntaxError);
                return;
            }
        }

        using var locks = LockArguments(first + 1, count, store ? 1 : -1);
        long work = 0;
        for (var k = 0; k < count; k++)
        {
            var key = _req[first + 1 + k];
            work += (_keyspace.ShardFor(key).Lookup(key, _now)?.Value as CollectionValue)?.Count ?? 0;
        }

        // Every input is copied whatever the operation: the work is the sum of their sizes.
        if (!WithinScanLimit(work, "members", "iterate with ZSCAN instead"))
        {
            return;
        }

        // Inputs may be sorted sets or plain sets (members scored 1), as in Redis.
        var inputs = new Dictionary<byte[], double>?[count];
        for (var k = 0; k < count; k++)
        {
            var key = _req[first + 1 + k];
            var entry = _keyspace.ShardFor(key).Lookup(key, _now);
            switch (entry?.Value)
            {
                case null:
                    break;
                case SortedSetValue zset:
                    var scores = new Dictionary<byte[], double>(zset.Count, ByteArrayComparer.Instance);
                    for (var p = 0; p < zset.Count; p++)
                    {
                        scores[zset.Dense(p).Member] = zset.Dense(p).Score;
                    }

                    inputs[k] = scores;
                    break;
                case SetValue set:
                    var ones = new Dictionary<byte[], double>(set.Count, ByteArrayComparer.Instance);
                    foreach (var member in set)
                    {
                        ones[member] = 1;
                    }

                    inputs[k] = ones;
                    break;
                default:
                    _w.WriteRaw(Replies.WrongType);
                    return;
            }
        }

        var result = new Dictionary<byte[], double>(ByteArrayComparer.Instance);
        switch (operation)
        {
            case SetOperation.Union:
                for (var k = 0; k < count; k++)
                {
                    foreach (var (member, score) in inputs[k] ?? [])
                    {
                        var weighted = Weighted(score, weights[k]);
                        result[member] = result.TryGetValue(member, out var sofar) ? Combine(sofar, weighted, aggregate) : weighted;
                    }
                }

                break;
            case SetOperation.Inter:
                if (Array.Exists(inputs, x => x is null))
                {
                    break;
                }

                foreach (var (member, score) in inputs[0]!)
                {
                    var value = Weighted(score, weights[0]);
                    var inAll = true;
                    for (var k = 1; k < count && inAll; k++)
                    {
                        inAll = inputs[k]!.TryGetValue(member, out var other);
                        if (inAll)
                        {
                            value = Combine(value, Weighted(other, weights[k]), aggregate);
                        }
                    }

                    if (inAll)
                    {
                        result[member] = value;
                    }
                }

                break;
            default:
                foreach (var (member, score) in inputs[0] ?? [])
                {
                    var keep = true;
                    for (var k = 1; k < count && keep; k++)
                    {
                        keep = inputs[k] is null || !inputs[k]!.ContainsKey(member);
                    }

                    if (keep)
                    {
                        result[member] = score;
                    }
                }

                break;
        }

        var items = result.Select(p => new ScoredMember(p.Value, p.Key)).ToList();
        items.Sort((a, b) => ScoredMember.Compare(a.Score, a.Member, b));
        if (store)
        {
            StoreZSet(_req[1], items);
            _w.WriteInteger(items.Count);
            return;
        }

        WriteScored(items, withScores);

        // Redis: inf * 0 is taken as 0, and a sum of inf and -inf as 0, never NaN.
        static double Weighted(double score, double weight)
        {
            var value = score * weight;
            return double.IsNaN(value) ? 0 : value;
        }

        static double Combine(double a, double b, Aggregate how)
        {
            var value = how switch
            {
                Aggregate.Min => Math.Min(a, b),
                Aggregate.Max => Math.Max(a, b),
                _ => a + b,
            };
            return double.IsNaN(value) ? 0 : value;
        }
    }

    /// <summary>The numkeys of ZUNION, ZINTER, ZDIFF (and STORE forms), ZINTERCARD, with their Redis error texts.</summary>
    private bool TryArgZNumKeys(int index, out int count)
    {
        count = 0;
        if (!TryArgInteger(index, out var numKeys))
        {
            return false;
        }

        if (numKeys < 1)
        {
            _w.WriteError($"ERR at least 1 input key is needed for '{_lastCommand!.Name}' command");
            return false;
        }

        if (numKeys > _req.Count - index - 1)
        {
            _w.WriteRaw(Replies.SyntaxError);
            return false;
        }

        count = (int)numKeys;
        return true;
    }

    private void ZInterCard()
    {
        if (!TryArgZNumKeys(1, out var count))
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
        var zsets = new SortedSetValue?[count];
        for (var k = 0; k < count; k++)
        {
            var key = _req[2 + k];
            var entry = _keyspace.ShardFor(key).Lookup(key, _now);
            if (entry is not null && entry.Value is not SortedSetValue)
            {
                _w.WriteRaw(Replies.WrongType);
                return;
            }

            zsets[k] = entry?.Value as SortedSetValue;
        }

        long found = 0;
        if (!Array.Exists(zsets, z => z is null))
        {
            var smallest = zsets.MinBy(z => z!.Count)!;
            for (var p = 0; p < smallest.Count && (limit == 0 || found < limit); p++)
            {
                var member = smallest.Dense(p).Member;
                if (Array.TrueForAll(zsets, z => z!.TryGetScore(member, out _)))
                {
                    found++;
                }
            }
        }

        _w.WriteInteger(found);
    }

    /// <summary>ZSCAN key cursor [MATCH pattern] [COUNT count]: member and score pairs, cursor as SSCAN's.</summary>
    private void ZScan()
    {
        if (!TryParseScanArguments(out var cursor, out var glob, out var count))
        {
            return;
        }

        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            if (!TryGetZSet(shard, key, create: false, out _, out var zset))
            {
                return;
            }

            var size = zset?.Count ?? 0;
            var items = new List<byte[]>();
            var position = cursor == 0 || cursor > (ulong)size ? size : (int)cursor;
            for (var examined = 0L; position > 0 && examined < count; examined++)
            {
                var item = zset!.Dense(--position);
                if (glob is null || glob.IsMatch(item.Member))
                {
                    items.Add(item.Member);
                    items.Add(System.Text.Encoding.ASCII.GetBytes(FormatScore(item.Score)));
                }
            }

            WriteScanReply(position, items);
        }
    }
}
