using System.Buffers.Text;
using Calc.Cache.Protocol;
using Calc.Cache.Storage;

namespace Calc.Cache.Commands;

// Hash commands. An emptied hash is deleted, as in Redis.
internal sealed partial class RespSession
{
    private enum HashSetReply
    {
        Count,
        Ok,
    }

    /// <summary>The hash at <paramref name="key"/>; replies WRONGTYPE and returns false for another type.</summary>
    private bool TryGetHash(Shard shard, ReadOnlySpan<byte> key, bool create, out CacheEntry? entry, out HashValue? hash)
    {
        entry = create ? shard.Find(key, _now) : shard.Lookup(key, _now);
        hash = null;
        if (entry is null)
        {
            if (create)
            {
                hash = new HashValue();
                entry = shard.Add(key.ToArray(), hash, _now);
            }

            return true;
        }

        hash = entry.Value as HashValue;
        if (hash is null)
        {
            _w.WriteRaw(Replies.WrongType);
            return false;
        }

        return true;
    }

    private void HSet(HashSetReply reply)
    {
        if (_req.Count % 2 != 0)
        {
            WrongArity(reply == HashSetReply.Ok ? "hmset" : "hset");
            return;
        }

        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            if (!TryGetHash(shard, key, create: true, out var entry, out var hash))
            {
                return;
            }

            long added = 0;
            for (var i = 2; i < _req.Count; i += 2)
            {
                if (hash!.Set(_req.ToArray(i), _req.ToArray(i + 1)))
                {
                    added++;
                }
            }

            shard.Resized(entry!);
            if (reply == HashSetReply.Ok)
            {
                _w.WriteRaw(Replies.Ok);
            }
            else
            {
                _w.WriteInteger(added);
            }
        }
    }

    private void HSetNx()
    {
        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            if (!TryGetHash(shard, key, create: true, out var entry, out var hash))
            {
                return;
            }

            if (hash!.Get(_req[2]) is not null)
            {
                _w.WriteRaw(Replies.Zero);
                return;
            }

            hash.Set(_req.ToArray(2), _req.ToArray(3));
            shard.Resized(entry!);
            _w.WriteRaw(Replies.One);
        }
    }

    private void HGet()
    {
        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            if (!TryGetHash(shard, key, create: false, out _, out var hash))
            {
                return;
            }

            var value = hash?.Get(_req[2]);
            if (value is null)
            {
                _w.WriteNull();
            }
            else
            {
                _w.WriteBulk(value);
            }
        }
    }

    private void HMGet()
    {
        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            if (!TryGetHash(shard, key, create: false, out _, out var hash))
            {
                return;
            }

            _w.WriteArrayHeader(_req.Count - 2);
            for (var i = 2; i < _req.Count; i++)
            {
                var value = hash?.Get(_req[i]);
                if (value is null)
                {
                    _w.WriteNull();
                }
                else
                {
                    _w.WriteBulk(value);
                }
            }
        }
    }

    private void HGetAll(bool keys, bool values)
    {
        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            if (!TryGetHash(shard, key, create: false, out _, out var hash)
                || !WithinScanLimit(hash?.Count ?? 0, "fields", "iterate with HSCAN instead"))
            {
                return;
            }

            var count = hash?.Count ?? 0;
            if (keys && values)
            {
                _w.WriteMapHeader(count);
            }
            else
            {
                _w.WriteArrayHeader(count);
            }

            if (hash is null)
            {
                return;
            }

            foreach (var (field, value) in hash.Fields)
            {
                if (keys)
                {
                    _w.WriteBulk(field);
                }

                if (values)
                {
                    _w.WriteBulk(value);
                }
            }
        }
    }

    private void HDel()
    {
        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            if (!TryGetHash(shard, key, create: false, out var entry, out var hash))
            {
                return;
            }

            if (hash is null)
            {
                _w.WriteRaw(Replies.Zero);
                return;
            }

            long removed = 0;
            for (var i = 2; i < _req.Count; i++)
            {
                if (hash.Remove(_req[i]))
                {
                    removed++;
                }
            }

            if (hash.Count == 0)
            {
                shard.Remove(entry!);
            }
            else
            {
                shard.Resized(entry!);
            }

            _w.WriteInteger(removed);
        }
    }

    private void HExists()
    {
        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            if (TryGetHash(shard, key, create: false, out _, out var hash))
            {
                _w.WriteRaw(hash?.Get(_req[2]) is null ? Replies.Zero : Replies.One);
            }
        }
    }

    private void HLen()
    {
        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            if (TryGetHash(shard, key, create: false, out _, out var hash))
            {
                _w.WriteInteger(hash?.Count ?? 0);
            }
        }
    }

    private void HStrLen()
    {
        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            if (TryGetHash(shard, key, create: false, out _, out var hash))
            {
                _w.WriteInteger(hash?.Get(_req[2])?.Length ?? 0);
            }
        }
    }

    private void HIncrBy()
    {
        if (!TryArgInteger(3, out var delta))
        {
            return;
        }

        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            if (!TryGetHash(shard, key, create: true, out var entry, out var hash))
            {
                return;
            }

            long current = 0;
            var old = hash!.Get(_req[2]);
            if (old is not null && !TryParseInteger(old, out current))
            {
                _w.WriteError("ERR hash value is not an integer");
                DropIfEmpty(shard, entry!, hash);
                return;
            }

            if ((delta > 0 && current > long.MaxValue - delta) || (delta < 0 && current < long.MinValue - delta))
            {
                _w.WriteRaw(Replies.Overflow);
                DropIfEmpty(shard, entry!, hash);
                return;
            }

            var result = current + delta;
            Span<byte> digits = stackalloc byte[20];
            Utf8Formatter.TryFormat(result, digits, out var written);
            hash.Set(_req.ToArray(2), digits[..written].ToArray());
            shard.Resized(entry!);
            _w.WriteInteger(result);
        }
    }

    private void HIncrByFloat()
    {
        if (!TryParseDouble(_req[3], out var delta))
        {
            _w.WriteRaw(Replies.NotFloat);
            return;
        }

        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            if (!TryGetHash(shard, key, create: true, out var entry, out var hash))
            {
                return;
            }

            double current = 0;
            var old = hash!.Get(_req[2]);
            if (old is not null && !TryParseDouble(old, out current))
            {
                _w.WriteError("ERR hash value is not a float");
                DropIfEmpty(shard, entry!, hash);
                return;
            }

            var result = current + delta;
            if (double.IsNaN(result) || double.IsInfinity(result))
            {
                _w.WriteError("ERR increment would produce NaN or Infinity");
                DropIfEmpty(shard, entry!, hash);
                return;
            }

            var text = System.Text.Encoding.ASCII.GetBytes(RespWriter.FormatDouble(result));
            hash.Set(_req.ToArray(2), text);
            shard.Resized(entry!);
            _w.WriteBulk(text);
        }
    }

    // A hash created for an increment that then failed must not stay behind empty.
    private static void DropIfEmpty(Shard shard, CacheEntry entry, HashValue hash)
    {
        if (hash.Count == 0)
        {
            shard.Remove(entry);
        }
    }
}
