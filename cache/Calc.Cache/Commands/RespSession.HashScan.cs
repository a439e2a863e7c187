using Calc.Cache.Protocol;
using Calc.Cache.Storage;

namespace Calc.Cache.Commands;

// HSCAN and HRANDFIELD, beside the hash commands (RespSession.Hashes.cs).
internal sealed partial class RespSession
{
    /// <summary>
    /// HSCAN key cursor [MATCH pattern] [COUNT count]: the whole hash in one reply with cursor 0, as Redis answers for
    /// a small (listpack) hash. O(fields) like HGETALL, whatever COUNT says (see cache/README.md, Limits).
    /// </summary>
    private void HScan()
    {
        if (!TryParseScanArguments(out _, out var glob, out _))
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
            foreach (var (field, value) in hash?.Fields ?? [])
            {
                if (glob is null || glob.IsMatch(field))
                {
                    items.Add(field);
                    items.Add(value);
                }
            }

            WriteScanReply(0, items);
        }
    }

    /// <summary>HRANDFIELD key [count [WITHVALUES]] (O(fields): the hash has no random access).</summary>
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
                    _w.WriteBulk(hash.Fields.ElementAt(Random.Shared.Next(hash.Count)).Key);
                }

                return;
            }

            if (hash is null || count == 0)
            {
                _w.WriteRaw(Replies.EmptyArray);
                return;
            }

            var pairs = hash.Fields.ToArray();
            var resp3Pairs = withValues && Protocol == 3;
            WriteRandomPicks(pairs.Length, count, Pick, withValues && !resp3Pairs ? 2 : 1);

            void Pick(int i)
            {
                if (resp3Pairs)
                {
                    _w.WriteArrayHeader(2);
                }

                _w.WriteBulk(pairs[i].Key);
                if (withValues)
                {
                    _w.WriteBulk(pairs[i].Value);
                }
            }
        }
    }
}
