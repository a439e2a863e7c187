using Calc.Cache.Storage;

namespace Calc.Cache.Commands;

// DUMP and RESTORE, in Calc.Cache's own payload format (Storage/DumpFormat.cs; not Redis's RDB).
internal sealed partial class RespSession
{
    private void Dump()
    {
        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            var entry = shard.Lookup(key, _now);
            if (entry is null)
            {
                _w.WriteNull();
                return;
            }

            if (entry.Value is CollectionValue collection && !WithinScanLimit(collection.Count, "elements", "a collection this large cannot be dumped in one command"))
            {
                return;
            }

            _w.WriteBulk(DumpFormat.Serialize(entry.Value));
        }
    }

    /// <summary>RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f], checked in Redis 7.0's order.</summary>
    private void Restore()
    {
        var replace = false;
        var absoluteTtl = false;
        long idleSeconds = -1;
        long frequency = -1;
        for (var i = 4; i < _req.Count; i++)
        {
            var more = i + 1 < _req.Count;
            if (Is(i, "REPLACE"u8))
            {
                replace = true;
            }
            else if (Is(i, "ABSTTL"u8))
            {
                absoluteTtl = true;
            }
            else if (Is(i, "IDLETIME"u8) && more && frequency == -1)
            {
                if (!TryArgInteger(i + 1, out idleSeconds))
                {
                    return;
                }

                if (idleSeconds < 0)
                {
                    _w.WriteError("ERR Invalid IDLETIME value, must be >= 0");
                    return;
                }

                i++;
            }
            else if (Is(i, "FREQ"u8) && more && idleSeconds == -1)
            {
                if (!TryArgInteger(i + 1, out frequency))
                {
                    return;
                }

                if (frequency is < 0 or > 255)
                {
                    _w.WriteError("ERR Invalid FREQ value, must be >= 0 and <= 255");
                    return;
                }

                i++; // accepted; there is no LFU policy to use it
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
            var existing = shard.Find(key, _now);
            if (!replace && existing is not null)
            {
                _w.WriteError("BUSYKEY Target key name already exists.");
                return;
            }

            if (!TryArgInteger(2, out var ttl))
            {
                return;
            }

            if (ttl < 0)
            {
                _w.WriteError("ERR Invalid TTL value, must be >= 0");
                return;
            }

            var payload = _req[3];
            if (!DumpFormat.Verify(payload))
            {
                _w.WriteError("ERR DUMP payload version or checksum are wrong");
                return;
            }

            var value = DumpFormat.Deserialize(payload, (int)Math.Min(int.MaxValue, _server.Options.Limits.MaxBulkLength));
            if (value is null)
            {
                _w.WriteError("ERR Bad data format");
                return;
            }

            if (existing is not null)
            {
                shard.Remove(existing);
            }

            if (ttl != 0 && !absoluteTtl)
            {
                ttl = ttl > long.MaxValue - _now ? long.MaxValue : ttl + _now;
            }

            if (ttl != 0 && ttl <= _now)
            {
                _w.WriteRaw(Replies.Ok); // already expired: nothing is created (an old key is deleted), as Redis
                return;
            }

            var entry = shard.Add(key.ToArray(), value, _now, ttl);
            if (idleSeconds > 0)
            {
                entry.Touch(idleSeconds >= _now / 1000 ? 0 : _now - (idleSeconds * 1000));
            }

            if (value is ListValue)
            {
                ListPushed(entry.Key);
            }
        }

        _w.WriteRaw(Replies.Ok);
    }
}
