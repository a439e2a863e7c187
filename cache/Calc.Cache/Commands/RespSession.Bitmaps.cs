using System.Numerics;
using Calc.Cache.Storage;

namespace Calc.Cache.Commands;

// Bitmaps (bit operations on string values: bit 0 is the most significant bit of byte 0, as in Redis) and LCS.
internal sealed partial class RespSession
{
    /// <summary>A string value for reading: null when the key is missing; false after replying WRONGTYPE.</summary>
    private bool TryGetString(Shard shard, ReadOnlySpan<byte> key, out byte[]? value)
    {
        var entry = shard.Lookup(key, _now);
        value = null;
        if (entry is null)
        {
            return true;
        }

        value = entry.Value as byte[];
        if (value is null)
        {
            _w.WriteRaw(Replies.WrongType);
            return false;
        }

        return true;
    }

    private bool TryArgBitOffset(int index, out long offset)
    {
        // As Redis: a bit offset is below 2^32 and its byte within proto-max-bulk-len.
        if (!TryParseInteger(_req[index], out offset) || offset < 0 || offset >= 1L << 32 || (offset >> 3) >= _server.Options.Limits.MaxBulkLength)
        {
            _w.WriteError("ERR bit offset is not an integer or out of range");
            return false;
        }

        return true;
    }

    private void SetBit()
    {
        if (!TryArgBitOffset(2, out var offset))
        {
            return;
        }

        if (!TryParseInteger(_req[3], out var bit) || bit is not (0 or 1))
        {
            _w.WriteError("ERR bit is not an integer or out of range");
            return;
        }

        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            var entry = shard.Find(key, _now);
            if (entry is not null && entry.Value is not byte[])
            {
                _w.WriteRaw(Replies.WrongType);
                return;
            }

            var old = entry?.Value as byte[] ?? [];
            var index = (int)(offset >> 3);
            var value = index < old.Length ? old : new byte[index + 1];
            if (!ReferenceEquals(value, old))
            {
                old.CopyTo(value, 0);
            }

            var mask = (byte)(0x80 >> (int)(offset & 7));
            var previous = (value[index] & mask) != 0;
            value[index] = bit == 1 ? (byte)(value[index] | mask) : (byte)(value[index] & ~mask);
            if (entry is null)
            {
                shard.Add(key.ToArray(), value, _now);
            }
            else if (!ReferenceEquals(value, old))
            {
                shard.SetValue(entry, value);
            }

            _w.WriteRaw(previous ? Replies.One : Replies.Zero);
        }
    }

    private void GetBit()
    {
        if (!TryArgBitOffset(2, out var offset))
        {
            return;
        }

        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            if (!TryGetString(shard, key, out var value))
            {
                return;
            }

            var index = offset >> 3;
            var set = value is not null && index < value.Length && (value[index] & (0x80 >> (int)(offset & 7))) != 0;
            _w.WriteRaw(set ? Replies.One : Replies.Zero);
        }
    }

    /// <summary>Parses [start end [BYTE|BIT]] at <paramref name="first"/>; false after replying an error.</summary>
    private bool TryParseBitRange(int first, bool endOptional, out long start, out long end, out bool hasEnd, out bool bits)
    {
        start = 0;
        end = -1;
        hasEnd = false;
        bits = false;
        if (_req.Count <= first)
        {
            return true;
        }

        if (!TryArgInteger(first, out start))
        {
            return false;
        }

        if (_req.Count == first + 1)
        {
            if (endOptional)
            {
                return true;
            }

            _w.WriteRaw(Replies.SyntaxError);
            return false;
        }

        if (!TryArgInteger(first + 1, out end))
        {
            return false;
        }

        hasEnd = true;
        if (_req.Count == first + 3)
        {
            bits = Is(first + 2, "BIT"u8);
            if (!bits && !Is(first + 2, "BYTE"u8))
            {
                _w.WriteRaw(Replies.SyntaxError);
                return false;
            }
        }
        else if (_req.Count > first + 3)
        {
            _w.WriteRaw(Replies.SyntaxError);
            return false;
        }

        return true;
    }

    /// <summary>Redis's index rules for BITCOUNT/BITPOS ranges over <paramref name="total"/> units (bytes or bits).</summary>
    private static bool NormalizeRange(ref long start, ref long end, long total)
    {
        if (start < 0)
        {
            start = Math.Max(0, total + start);
        }

        if (end < 0)
        {
            end = Math.Max(0, total + end);
        }

        if (end >= total)
        {
            end = total - 1;
        }

        return total > 0 && start <= end;
    }

    private static bool BitAt(byte[] value, long bit) => (value[bit >> 3] & (0x80 >> (int)(bit & 7))) != 0;

    private void BitCount()
    {
        if (!TryParseBitRange(2, endOptional: false, out var start, out var end, out _, out var bits))
        {
            return;
        }

        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            if (!TryGetString(shard, key, out var value))
            {
                return;
            }

            if (value is null || !NormalizeRange(ref start, ref end, bits ? value.Length * 8L : value.Length))
            {
                _w.WriteRaw(Replies.Zero);
                return;
            }

            long count = 0;
            if (!bits)
            {
                foreach (var b in value.AsSpan((int)start, (int)(end - start + 1)))
                {
                    count += BitOperations.PopCount(b);
                }
            }
            else
            {
                for (var bit = start; bit <= end; bit++)
                {
                    count += BitAt(value, bit) ? 1 : 0;
                }
            }

            _w.WriteInteger(count);
        }
    }

    private void BitPos()
    {
        if (!TryParseInteger(_req[2], out var wanted) || wanted is not (0 or 1))
        {
            _w.WriteError(TryParseInteger(_req[2], out _) ? "ERR The bit argument must be 1 or 0." : "ERR value is not an integer or out of range");
            return;
        }

        if (!TryParseBitRange(3, endOptional: true, out var start, out var end, out var hasEnd, out var bits))
        {
            return;
        }

        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            if (!TryGetString(shard, key, out var value))
            {
                return;
            }

            if (value is null)
            {
                _w.WriteInteger(wanted == 1 ? -1 : 0);
                return;
            }

            var total = bits ? value.Length * 8L : value.Length;
            if (!NormalizeRange(ref start, ref end, total))
            {
                _w.WriteRaw(Replies.MinusOne);
                return;
            }

            var (firstBit, lastBit) = bits ? (start, end) : (start * 8, (end * 8) + 7);
            for (var bit = firstBit; bit <= lastBit; bit++)
            {
                if (BitAt(value, bit) == (wanted == 1))
                {
                    _w.WriteInteger(bit);
                    return;
                }
            }

            // Looking for a clear bit with no end given: the string counts as padded with zeros on the right (Redis).
            _w.WriteInteger(wanted == 0 && !hasEnd ? lastBit + 1 : -1);
        }
    }

    private void BitOp()
    {
        var op = _req.GetString(1).ToUpperInvariant();
        if (op is not ("AND" or "OR" or "XOR" or "NOT"))
        {
            _w.WriteRaw(Replies.SyntaxError);
            return;
        }

        var sources = _req.Count - 3;
        if (op == "NOT" && sources != 1)
        {
            _w.WriteError("ERR BITOP NOT must be called with a single source key.");
            return;
        }

        using var locks = LockArguments(3, sources, extra: 2);
        var values = new byte[sources][];
        var length = 0;
        for (var i = 0; i < sources; i++)
        {
            if (!TryGetString(_keyspace.ShardFor(_req[3 + i]), _req[3 + i], out var value))
            {
                return;
            }

            values[i] = value ?? [];
            length = Math.Max(length, values[i].Length);
        }

        var result = new byte[length];
        for (var b = 0; b < length; b++)
        {
            var acc = B(values[0], b);
            if (op == "NOT")
            {
                acc = (byte)~acc;
            }

            for (var i = 1; i < sources; i++)
            {
                var x = B(values[i], b);
                acc = op switch
                {
                    "AND" => (byte)(acc & x),
                    "OR" => (byte)(acc | x),
                    _ => (byte)(acc ^ x),
                };
            }

            result[b] = acc;
        }

        var destination = _req[2];
        var shard = _keyspace.ShardFor(destination);
        if (shard.Find(destination, _now) is { } old)
        {
            shard.Remove(old);
        }

        if (length > 0)
        {
            shard.Add(destination.ToArray(), result, _now);
        }

        _w.WriteInteger(length);

        static byte B(byte[] value, int index) => index < value.Length ? value[index] : (byte)0;
    }

    /// <summary>
    /// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN], Redis's dynamic programme and its backtracking
    /// order. Its table is (len1+1) x (len2+1) 32-bit cells, refused past proto-max-bulk-len bytes as Redis does.
    /// </summary>
    private void Lcs()
    {
        bool len = false, idx = false, withMatchLen = false;
        long minMatchLen = 0;
        for (var i = 3; i < _req.Count; i++)
        {
            if (Is(i, "LEN"u8)) { len = true; }
            else if (Is(i, "IDX"u8)) { idx = true; }
            else if (Is(i, "WITHMATCHLEN"u8)) { withMatchLen = true; }
            else if (Is(i, "MINMATCHLEN"u8) && i + 1 < _req.Count)
            {
                if (!TryArgInteger(++i, out minMatchLen))
                {
                    return;
                }

                minMatchLen = Math.Max(0, minMatchLen);
            }
            else
            {
                _w.WriteRaw(Replies.SyntaxError);
                return;
            }
        }

        if (len && idx)
        {
            _w.WriteError("ERR If you want both the length and indexes, please just use IDX.");
            return;
        }

        byte[] a, b;
        using (_keyspace.LockShards([Keyspace.ShardIndex(_req[1]), Keyspace.ShardIndex(_req[2])]))
        {
            var ea = _keyspace.ShardFor(_req[1]).Lookup(_req[1], _now);
            var eb = _keyspace.ShardFor(_req[2]).Lookup(_req[2], _now);
            if ((ea is not null && ea.Value is not byte[]) || (eb is not null && eb.Value is not byte[]))
            {
                _w.WriteError("ERR The specified keys must contain string values");
                return;
            }

            a = ea?.Value as byte[] ?? [];
            b = eb?.Value as byte[] ?? [];
        }

        // The strings were copied out (their arrays are never changed at another length), so the table is built unlocked.
        long cells = (a.Length + 1L) * (b.Length + 1L);
        if (cells * 4 > _server.Options.Limits.MaxBulkLength || cells > Array.MaxLength)
        {
            _w.WriteError("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
            return;
        }

        var width = b.Length + 1;
        var table = new uint[cells];
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                table[(i * width) + j] = a[i - 1] == b[j - 1]
                    ? table[((i - 1) * width) + j - 1] + 1
                    : Math.Max(table[((i - 1) * width) + j], table[(i * width) + j - 1]);
            }
        }

        var length = (int)table[(a.Length * width) + b.Length];
        if (len)
        {
            _w.WriteInteger(length);
            return;
        }

        var common = new byte[length];
        var ranges = new List<(long AStart, long AEnd, long BStart, long BEnd)>();
        long aStart = a.Length, aEnd = 0, bStart = 0, bEnd = 0;
        int x = a.Length, y = b.Length, at = length;
        while (x > 0 && y > 0)
        {
            var emit = false;
            if (a[x - 1] == b[y - 1])
            {
                common[--at] = a[x - 1];
                if (aStart == a.Length)
                {
                    aStart = aEnd = x - 1;
                    bStart = bEnd = y - 1;
                }
                else if (aStart == x && bStart == y)
                {
                    aStart--;
                    bStart--;
                }
                else
                {
                    emit = true;
                }

                if (aStart == 0 || bStart == 0)
                {
                    emit = true;
                }

                x--;
                y--;
            }
            else
            {
                if (table[((x - 1) * width) + y] > table[(x * width) + y - 1])
                {
                    x--;
                }
                else
                {
                    y--;
                }

                if (aStart != a.Length)
                {
                    emit = true;
                }
            }

            if (emit)
            {
                if (minMatchLen == 0 || aEnd - aStart + 1 >= minMatchLen)
                {
                    ranges.Add((aStart, aEnd, bStart, bEnd));
                }

                aStart = a.Length;
            }
        }

        if (!idx)
        {
            _w.WriteBulk(common);
            return;
        }

        _w.WriteMapHeader(2);
        _w.WriteBulk("matches"u8);
        _w.WriteArrayHeader(ranges.Count);
        foreach (var (s1, e1, s2, e2) in ranges)
        {
            _w.WriteArrayHeader(withMatchLen ? 3 : 2);
            _w.WriteArrayHeader(2);
            _w.WriteInteger(s1);
            _w.WriteInteger(e1);
            _w.WriteArrayHeader(2);
            _w.WriteInteger(s2);
            _w.WriteInteger(e2);
            if (withMatchLen)
            {
                _w.WriteInteger(e1 - s1 + 1);
            }
        }

        _w.WriteBulk("len"u8);
        _w.WriteInteger(length);
    }
}
