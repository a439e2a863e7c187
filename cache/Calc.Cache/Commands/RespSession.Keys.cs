using System.Globalization;
using Calc.Cache.Protocol;
using Calc.Cache.Storage;

namespace Calc.Cache.Commands;

// Generic key commands.
internal sealed partial class RespSession
{
    private void Del()
    {
        long deleted = 0;
        for (var i = 1; i < _req.Count; i++)
        {
            var key = _req[i];
            var shard = _keyspace.ShardFor(key);
            lock (shard)
            {
                var entry = shard.Find(key, _now);
                if (entry is not null)
                {
                    shard.Remove(entry);
                    deleted++;
                }
            }
        }

        _w.WriteInteger(deleted);
    }

    private void Exists()
    {
        long found = 0;
        for (var i = 1; i < _req.Count; i++)
        {
            var key = _req[i];
            var shard = _keyspace.ShardFor(key);
            lock (shard)
            {
                if (shard.Find(key, _now) is not null)
                {
                    found++;
                }
            }
        }

        _w.WriteInteger(found);
    }

    /// <summary>
    /// keys-max-scan, the one bound on a single command's work: one command must not hold its event loop (and every
    /// other client on it) for long, so a command that would examine more than the limit's keys or elements (KEYS,
    /// SMEMBERS, HGETALL, LRANGE 0 -1, SINTER, ZUNION, a large SRANDMEMBER count...) is refused before it starts, with
    /// an error naming the way that works in steps. 0 = no limit. False after writing the refusal.
    /// </summary>
    private bool WithinScanLimit(long work, string what, string instead)
    {
        var limit = _server.Options.KeysMaxScan;
        if (limit <= 0 || work <= limit)
        {
            return true;
        }

        _w.WriteError(string.Create(CultureInfo.InvariantCulture, $"ERR {_req.GetString(0).ToUpperInvariant()} would examine {work} {what}, more than keys-max-scan ({limit}): {instead}"));
        return false;
    }

    private void Keys()
    {
        var pattern = _req[1];
        if (!WithinScanLimit(_keyspace.Count(), "keys", "iterate with SCAN instead"))
        {
            return;
        }

        var matchAll = pattern.SequenceEqual("*"u8);
        var keys = new List<byte[]>();
        var glob = matchAll ? null : Glob.Compile(pattern);
        for (var s = 0; s < Keyspace.ShardCount; s++)
        {
            var shard = _keyspace[s];
            lock (shard)
            {
                shard.CollectKeys(_now, keys, glob is null ? null : e => glob.IsMatch(e.Key));
            }
        }

        WriteKeyArray(keys);
    }

    private void WriteKeyArray(List<byte[]> keys)
    {
        _w.WriteArrayHeader(keys.Count);
        foreach (var key in keys)
        {
            _w.WriteBulk(key);
        }
    }

    /// <summary>
    /// SCAN: the cursor is a stripe index. Each call returns whole stripes until COUNT keys were examined, so every
    /// key present for the whole iteration is returned at least once, as Redis guarantees.
    /// </summary>
    private void Scan()
    {
        if (!ulong.TryParse(_req.GetString(1), NumberStyles.None, CultureInfo.InvariantCulture, out var cursor))
        {
            _w.WriteRaw(Replies.InvalidCursor);
            return;
        }

        byte[]? pattern = null;
        long count = 10;
        string? type = null;
        for (var i = 2; i < _req.Count; i++)
        {
            if (Is(i, "MATCH"u8) && i + 1 < _req.Count)
            {
                // "*" means no filter, as in Redis (the glob itself would not match the empty key)
                pattern = _req[++i].SequenceEqual("*"u8) ? null : _req.ToArray(i);
            }
            else if (Is(i, "COUNT"u8) && i + 1 < _req.Count)
            {
                if (!TryArgInteger(++i, out count))
                {
                    return;
                }

                if (count < 1)
                {
                    _w.WriteRaw(Replies.SyntaxError);
                    return;
                }
            }
            else if (Is(i, "TYPE"u8) && i + 1 < _req.Count)
            {
                type = _req.GetString(++i).ToLowerInvariant();
            }
            else
            {
                _w.WriteRaw(Replies.SyntaxError);
                return;
            }
        }

        var limit = _server.Options.KeysMaxScan;
        if (limit > 0 && count > limit)
        {
            count = limit; // COUNT is a hint (as in Redis); capping it keeps one call's work bounded
        }

        var keys = new List<byte[]>();
        var examined = 0L;
        var index = cursor >= Keyspace.ShardCount ? Keyspace.ShardCount : (int)cursor;
        var glob = pattern is null ? null : Glob.Compile(pattern);
        Func<CacheEntry, bool>? accept = glob is null && type is null
            ? null
            : e => (glob is null || glob.IsMatch(e.Key)) && (type is null || TypeName(e) == type);
        while (index < Keyspace.ShardCount && examined < count)
        {
            var shard = _keyspace[index++];
            lock (shard)
            {
                examined += shard.Count;
                shard.CollectKeys(_now, keys, accept);
            }
        }

        _w.WriteArrayHeader(2);
        _w.WriteBulk(index >= Keyspace.ShardCount ? 0 : index);
        WriteKeyArray(keys);
    }

    private void RandomKey()
    {
        var key = _keyspace.RandomKey(_now);
        if (key is null)
        {
            _w.WriteNull();
        }
        else
        {
            _w.WriteBulk(key);
        }
    }

    private void Rename(bool onlyIfNew)
    {
        var from = _req[1];
        var to = _req[2];
        using var locks = _keyspace.LockShards([Keyspace.ShardIndex(from), Keyspace.ShardIndex(to)]);
        var source = _keyspace.ShardFor(from);
        var entry = source.Find(from, _now);
        if (entry is null)
        {
            _w.WriteRaw(Replies.NoSuchKey);
            return;
        }

        if (from.SequenceEqual(to))
        {
            _w.WriteRaw(onlyIfNew ? Replies.Zero : Replies.Ok);
            return;
        }

        var target = _keyspace.ShardFor(to);
        var existing = target.Find(to, _now);
        if (existing is not null)
        {
            if (onlyIfNew)
            {
                _w.WriteRaw(Replies.Zero);
                return;
            }

            target.Remove(existing);
        }

        source.Remove(entry);
        var moved = target.Add(to.ToArray(), entry.Value, _now, entry.ExpiresAt);
        if (entry.Value is ListValue)
        {
            ListPushed(moved.Key); // a list renamed to a key that clients are blocked on serves them, as in Redis
        }

        _w.WriteRaw(onlyIfNew ? Replies.One : Replies.Ok);
    }

    private static string TypeName(CacheEntry entry) => entry.Value switch
    {
        HashValue => "hash",
        ListValue => "list",
        SetValue => "set",
        SortedSetValue => "zset",
        _ => "string",
    };

    private void TypeOf()
    {
        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            var entry = shard.Find(key, _now);
            _w.WriteRaw(entry?.Value switch
            {
                null => "+none\r\n"u8,
                HashValue => "+hash\r\n"u8,
                ListValue => "+list\r\n"u8,
                SetValue => "+set\r\n"u8,
                SortedSetValue => "+zset\r\n"u8,
                _ => "+string\r\n"u8,
            });
        }
    }

    private void Flush(bool all)
    {
        if (_req.Count > 2 || (_req.Count == 2 && !Is(1, "ASYNC"u8) && !Is(1, "SYNC"u8)))
        {
            _w.WriteRaw(Replies.SyntaxError);
            return;
        }

        if (all)
        {
            _server.Databases.FlushAll();
        }
        else
        {
            _keyspace.FlushAll();
        }

        _w.WriteRaw(Replies.Ok);
    }
}
