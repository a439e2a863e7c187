using Calc.Cache.Protocol;
using Calc.Cache.Storage;

namespace Calc.Cache.Commands;

// HSCAN and HRANDFIELD, beside the hash commands (RespSession.Hashes.cs).
internal sealed partial class RespSession
{
    /// <summary>
    /// HSCAN key cursor [MATCH pattern] [COUNT count]: as SSCAN, the cursor counts down through the dense pair list (see
    /// <see cref="HashValue"/>), COUNT pairs a call (capped to keys-max-scan), so a field present for the whole scan is
    /// returned at least once. A small (listpack) hash comes whole in one reply with cursor 0 and in insertion order,
    /// as Redis answers it.
    /// </summary>
    private void HScan()
    {
        if (!TryParseScanArguments(out var cursor, out var glob, out var count))
        {
            return;
        }

        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            if (!TryGetHash(shard, key, create: false, out _, out var hash))
            {
                return;
            }

            var items = new List<byte[]>();
            if (hash is null)
            {
                WriteScanReply(0, items);
                return;
            }

            if (cursor == 0 && hash.Encoding == "listpack")
            {
                foreach (var (field, value) in hash.Fields)
                {
                    AddIfMatches(field, value);
                }

                WriteScanReply(0, items);
                return;
            }

            var size = hash.Count;
            var position = cursor == 0 || cursor > (ulong)size ? size : (int)cursor;
            for (var examined = 0L; position > 0 && examined < count; examined++)
            {
                var (field, value) = hash[--position];
                AddIfMatches(field, value);
            }

            WriteScanReply(position, items);

            void AddIfMatches(byte[] field, byte[] value)
            {
                if (glob is null || glob.IsMatch(field))
                {
                    items.Add(field);
                    items.Add(value);
                }
            }
        }
    }

    /// <summary>HRANDFIELD key [count [WITHVALUES]]: O(1) a pick (the dense pair list).</summary>
    private void HRandField()
    {
        long count = 1;
        var withValues = false;
        if (_req.Count >= 3)
        {
            if (!TryArgInteger(2, out count))
            {
                return;
            }

            if (_req.Count == 4 && Is(3, "WITHVALUES"u8))
            {
                withValues = true;
            }
            else if (_req.Count > 3)
            {
                _w.WriteRaw(Replies.SyntaxError);
                return;
            }

            if (count == long.MinValue || (withValues && (count < -(long.MaxValue / 2) || count > long.MaxValue / 2)))
            {
                _w.WriteError("ERR value is out of range");
                return;
            }
        }

        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            if (!TryGetHash(shard, key, create: false, out _, out var hash))
            {
                return;
            }

            if (_req.Count == 2)
            {
                if (hash is null)
                {
                    _w.WriteNull();
                }
                else
                {
                    _w.WriteBulk(hash[Random.Shared.Next(hash.Count)].Key);
                }

                return;
            }

            if (hash is null || count == 0)
            {
                _w.WriteRaw(Replies.EmptyArray);
                return;
            }

            var resp3Pairs = withValues && Protocol == 3;
            WriteRandomPicks(hash.Count, count, Pick, "fields", withValues && !resp3Pairs ? 2 : 1);

            void Pick(int i)
            {
                if (resp3Pairs)
                {
                    _w.WriteArrayHeader(2);
                }

                var (field, value) = hash[i];
                _w.WriteBulk(field);
                if (withValues)
                {
                    _w.WriteBulk(value);
                }
            }
        }
    }
}
