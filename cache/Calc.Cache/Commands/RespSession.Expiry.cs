namespace Calc.Cache.Commands;

// EXPIRE family, TTL family, PERSIST.
internal sealed partial class RespSession
{
    private void Expire(long unitMs, bool relative)
    {
        var name = _lastCommand!.Name;
        if (!TryArgInteger(2, out var amount))
        {
            return;
        }

        bool nx = false, xx = false, gt = false, lt = false;
        for (var i = 3; i < _req.Count; i++)
        {
            if (Is(i, "NX"u8))
            {
                nx = true;
            }
            else if (Is(i, "XX"u8))
            {
                xx = true;
            }
            else if (Is(i, "GT"u8))
            {
                gt = true;
            }
            else if (Is(i, "LT"u8))
            {
                lt = true;
            }
            else
            {
                _w.WriteError($"ERR Unsupported option {_req.GetString(i)}");
                return;
            }
        }

        if (nx && (xx || gt || lt))
        {
            _w.WriteError("ERR NX and XX, GT or LT options at the same time are not compatible");
            return;
        }

        if (gt && lt)
        {
            _w.WriteError("ERR GT and LT options at the same time are not compatible");
            return;
        }

        long when;
        if (unitMs != 1 && (amount > long.MaxValue / unitMs || amount < long.MinValue / unitMs))
        {
            _w.WriteError($"ERR invalid expire time in '{name}' command");
            return;
        }

        when = amount * unitMs;
        if (relative)
        {
            if ((when > 0 && _now > long.MaxValue - when) || (when < 0 && _now < long.MinValue - when))
            {
                _w.WriteError($"ERR invalid expire time in '{name}' command");
                return;
            }

            when += _now;
        }

        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            var entry = shard.Find(key, _now);
            if (entry is null)
            {
                _w.WriteRaw(Replies.Zero);
                return;
            }

            var current = entry.ExpiresAt; // 0: no TTL, which GT/LT treat as an infinite TTL
            var skip = (nx && current != 0)
                || (xx && current == 0)
                || (gt && (current == 0 || when <= current))
                || (lt && current != 0 && when >= current);
            if (skip)
            {
                _w.WriteRaw(Replies.Zero);
                return;
            }

            if (when <= _now)
            {
                shard.Remove(entry); // a time in the past deletes the key, as in Redis
            }
            else
            {
                shard.SetExpiry(entry, when);
            }

            _w.WriteRaw(Replies.One);
        }
    }

    private void Ttl(long unitMs) => ReplyExpiry(expiresAt =>
    {
        var left = Math.Max(0, expiresAt - _now);
        return unitMs == 1 ? left : (left + 500) / 1000;
    });

    private void ExpireTime(long unitMs) => ReplyExpiry(expiresAt => expiresAt / unitMs);

    // TTL, PTTL, EXPIRETIME, PEXPIRETIME: -2 without the key, -1 without an expiry, else a number from the expiry.
    private void ReplyExpiry(Func<long, long> fromExpiresAt)
    {
        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            var entry = shard.Find(key, _now);
            if (entry is null)
            {
                _w.WriteRaw(Replies.MinusTwo);
            }
            else if (entry.ExpiresAt == 0)
            {
                _w.WriteRaw(Replies.MinusOne);
            }
            else
            {
                _w.WriteInteger(fromExpiresAt(entry.ExpiresAt));
            }
        }
    }

    private void Persist()
    {
        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            var entry = shard.Find(key, _now);
            if (entry is null || entry.ExpiresAt == 0)
            {
                _w.WriteRaw(Replies.Zero);
                return;
            }

            shard.SetExpiry(entry, 0);
            _w.WriteRaw(Replies.One);
        }
    }
}
