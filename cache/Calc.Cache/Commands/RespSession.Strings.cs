using System.Buffers.Text;
using Calc.Cache.Protocol;
using Calc.Cache.Storage;

namespace Calc.Cache.Commands;

// String commands. Invariant: a byte[] value is only read or written under its shard's lock and never shared between
// two entries, so SET may overwrite a same-length value in place (no allocation when redis-benchmark rewrites keys).
internal sealed partial class RespSession
{
    /// <summary>
    /// Redis's checkStringLength: a string grown to <paramref name="size"/> + <paramref name="append"/> bytes must stay
    /// within proto-max-bulk-len (and an int array), or the command gets Redis's error and changes nothing.
    /// </summary>
    private bool FitsStringLimit(long size, long append)
    {
        var limit = Math.Min(_server.Options.Limits.MaxBulkLength, Array.MaxLength);
        if (size <= limit && append <= limit - size)
        {
            return true;
        }

        _w.WriteRaw(Replies.StringTooLong);
        return false;
    }

    private void Get()
    {
        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            var entry = shard.Lookup(key, _now);
            if (entry is null)
            {
                _w.WriteNull();
            }
            else if (entry.Value is byte[] value)
            {
                _w.WriteBulk(value);
            }
            else
            {
                _w.WriteRaw(Replies.WrongType);
            }
        }
    }

    private void Set()
    {
        if (!TryParseStringOptions(3, StringOptions.ForSet, "set", out var options, out var expiresAt))
        {
            return;
        }

        // Masks, not Enum.HasFlag: HasFlag boxes in tier-0 code, and AllocationTests holds SET to no allocation.
        bool nx = (options & StringOptions.Nx) != 0, xx = (options & StringOptions.Xx) != 0, get = (options & StringOptions.Get) != 0;
        var keepTtl = (options & StringOptions.KeepTtl) != 0;
        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            var entry = shard.Find(key, _now);
            if (get)
            {
                if (entry is not null && entry.Value is not byte[])
                {
                    _w.WriteRaw(Replies.WrongType);
                    return;
                }

                if (entry is null)
                {
                    _w.WriteNull();
                }
                else
                {
                    _w.WriteBulk((byte[])entry.Value);
                }
            }

            if ((nx && entry is not null) || (xx && entry is null))
            {
                if (!get)
                {
                    _w.WriteNull();
                }

                return;
            }

            if (entry is null)
            {
                shard.Add(_req.ToArray(1), _req.ToArray(2), _now, expiresAt);
            }
            else
            {
                StoreString(shard, entry, _req[2]);
                if (!keepTtl)
                {
                    shard.SetExpiry(entry, expiresAt);
                }
            }

            if (!get)
            {
                _w.WriteRaw(Replies.Ok);
            }
        }
    }

    /// <summary>Replaces an entry's value with a string, reusing the old array when the length matches.</summary>
    private static void StoreString(Shard shard, CacheEntry entry, ReadOnlySpan<byte> value)
    {
        if (entry.Value is byte[] old && old.Length == value.Length)
        {
            value.CopyTo(old);
            shard.Modified(entry); // WATCH: a change in place is a write too
            return;
        }

        shard.SetValue(entry, value.ToArray());
    }

    private void SetNx()
    {
        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            if (shard.Find(key, _now) is not null)
            {
                _w.WriteRaw(Replies.Zero);
                return;
            }

            shard.Add(_req.ToArray(1), _req.ToArray(2), _now);
            _w.WriteRaw(Replies.One);
        }
    }

    private void SetEx(long unitMs)
    {
        if (!TryArgInteger(2, out var amount))
        {
            return;
        }

        var name = unitMs == 1 ? "psetex" : "setex";
        if (amount <= 0 || amount > long.MaxValue / unitMs || amount * unitMs > long.MaxValue - _now)
        {
            _w.WriteError($"ERR invalid expire time in '{name}' command");
            return;
        }

        var expiresAt = _now + (amount * unitMs);
        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            var entry = shard.Find(key, _now);
            if (entry is null)
            {
                shard.Add(_req.ToArray(1), _req.ToArray(3), _now, expiresAt);
            }
            else
            {
                StoreString(shard, entry, _req[3]);
                shard.SetExpiry(entry, expiresAt);
            }
        }

        _w.WriteRaw(Replies.Ok);
    }

    private void MGet()
    {
        _w.WriteArrayHeader(_req.Count - 1);
        for (var i = 1; i < _req.Count; i++)
        {
            var key = _req[i];
            var shard = _keyspace.ShardFor(key);
            lock (shard)
            {
                if (shard.Lookup(key, _now)?.Value is byte[] value)
                {
                    _w.WriteBulk(value);
                }
                else
                {
                    _w.WriteNull();
                }
            }
        }
    }

    private void MSet(bool onlyIfNoneExist)
    {
        if (_req.Count % 2 == 0)
        {
            WrongArity(onlyIfNoneExist ? "msetnx" : "mset");
            return;
        }

        var pairs = (_req.Count - 1) / 2;
        var indices = new int[pairs];
        for (var p = 0; p < pairs; p++)
        {
            indices[p] = Keyspace.ShardIndex(_req[1 + (2 * p)]);
        }

        // All stripes held at once: other clients see all of the keys set or none (MSET is atomic in Redis).
        using var locks = _keyspace.LockShards(indices);
        if (onlyIfNoneExist)
        {
            for (var p = 0; p < pairs; p++)
            {
                if (_keyspace[indices[p]].Find(_req[1 + (2 * p)], _now) is not null)
                {
                    _w.WriteRaw(Replies.Zero);
                    return;
                }
            }
        }

        for (var p = 0; p < pairs; p++)
        {
            var shard = _keyspace[indices[p]];
            var key = _req[1 + (2 * p)];
            var entry = shard.Find(key, _now);
            if (entry is null)
            {
                shard.Add(key.ToArray(), _req.ToArray(2 + (2 * p)), _now);
            }
            else
            {
                StoreString(shard, entry, _req[2 + (2 * p)]);
                shard.SetExpiry(entry, 0);
            }
        }

        _w.WriteRaw(onlyIfNoneExist ? Replies.One : Replies.Ok);
    }

    private void IncrByArgument(bool negate)
    {
        if (!TryArgInteger(2, out var delta))
        {
            return;
        }

        if (negate && delta == long.MinValue)
        {
            _w.WriteError("ERR decrement would overflow");
            return;
        }

        IncrBy(negate ? -delta : delta);
    }

    private void IncrBy(long delta)
    {
        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            var entry = shard.Find(key, _now);
            long current = 0;
            if (entry is not null)
            {
                if (entry.Value is not byte[] bytes)
                {
                    _w.WriteRaw(Replies.WrongType);
                    return;
                }

                if (!TryParseInteger(bytes, out current))
                {
                    _w.WriteRaw(Replies.NotInteger);
                    return;
                }
            }

            if ((delta > 0 && current > long.MaxValue - delta) || (delta < 0 && current < long.MinValue - delta))
            {
                _w.WriteRaw(Replies.Overflow);
                return;
            }

            var result = current + delta;
            Span<byte> digits = stackalloc byte[20];
            Utf8Formatter.TryFormat(result, digits, out var written);
            if (entry is null)
            {
                shard.Add(key.ToArray(), digits[..written].ToArray(), _now);
            }
            else
            {
                StoreString(shard, entry, digits[..written]);
            }

            _w.WriteInteger(result);
        }
    }

    private void IncrByFloat()
    {
        if (!TryParseDouble(_req[2], out var delta))
        {
            _w.WriteRaw(Replies.NotFloat);
            return;
        }

        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            var entry = shard.Find(key, _now);
            double current = 0;
            if (entry is not null)
            {
                if (entry.Value is not byte[] bytes)
                {
                    _w.WriteRaw(Replies.WrongType);
                    return;
                }

                if (!TryParseDouble(bytes, out current))
                {
                    _w.WriteRaw(Replies.NotFloat);
                    return;
                }
            }

            var result = current + delta;
            if (double.IsNaN(result) || double.IsInfinity(result))
            {
                _w.WriteError("ERR increment would produce NaN or Infinity");
                return;
            }

            var text = System.Text.Encoding.ASCII.GetBytes(RespWriter.FormatDouble(result));
            if (entry is null)
            {
                shard.Add(key.ToArray(), text, _now);
            }
            else
            {
                shard.SetValue(entry, text);
            }

            _w.WriteBulk(text);
        }
    }

    private void Append()
    {
        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            var entry = shard.Find(key, _now);
            if (entry is null)
            {
                shard.Add(key.ToArray(), _req.ToArray(2), _now);
                _w.WriteInteger(_req[2].Length);
                return;
            }

            if (entry.Value is not byte[] old)
            {
                _w.WriteRaw(Replies.WrongType);
                return;
            }

            var suffix = _req[2];
            if (!FitsStringLimit(old.Length, suffix.Length))
            {
                return;
            }

            var combined = new byte[old.Length + suffix.Length];
            old.CopyTo(combined, 0);
            suffix.CopyTo(combined.AsSpan(old.Length));
            shard.SetValue(entry, combined);
            _w.WriteInteger(combined.Length);
        }
    }

    private void StrLen()
    {
        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            var entry = shard.Lookup(key, _now);
            if (entry is null)
            {
                _w.WriteRaw(Replies.Zero);
            }
            else if (entry.Value is byte[] value)
            {
                _w.WriteInteger(value.Length);
            }
            else
            {
                _w.WriteRaw(Replies.WrongType);
            }
        }
    }

    private void GetDel()
    {
        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            var entry = shard.Lookup(key, _now);
            if (entry is null)
            {
                _w.WriteNull();
            }
            else if (entry.Value is byte[] value)
            {
                _w.WriteBulk(value);
                shard.Remove(entry);
            }
            else
            {
                _w.WriteRaw(Replies.WrongType);
            }
        }
    }

    private void GetEx()
    {
        if (!TryParseStringOptions(2, StringOptions.ForGetEx, "getex", out var options, out var expiresAt))
        {
            return;
        }

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

            if (entry.Value is not byte[] value)
            {
                _w.WriteRaw(Replies.WrongType);
                return;
            }

            _w.WriteBulk(value);
            if ((options & StringOptions.Persist) != 0)
            {
                shard.SetExpiry(entry, 0);
            }
            else if (expiresAt != 0)
            {
                shard.SetExpiry(entry, expiresAt);
            }
        }
    }

    private void GetSet()
    {
        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            var entry = shard.Find(key, _now);
            if (entry is null)
            {
                _w.WriteNull();
                shard.Add(key.ToArray(), _req.ToArray(2), _now);
                return;
            }

            if (entry.Value is not byte[] old)
            {
                _w.WriteRaw(Replies.WrongType);
                return;
            }

            _w.WriteBulk(old);
            StoreString(shard, entry, _req[2]);
            shard.SetExpiry(entry, 0);
        }
    }

    private void GetRange()
    {
        if (!TryArgInteger(2, out var start) || !TryArgInteger(3, out var end))
        {
            return;
        }

        var key = _req[1];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            var entry = shard.Lookup(key, _now);
            if (entry is null)
            {
                _w.WriteRaw(Replies.EmptyBulk);
                return;
            }

            if (entry.Value is not byte[] value)
            {
                _w.WriteRaw(Replies.WrongType);
                return;
            }

            long length = value.Length;
            if (start < 0 && end < 0 && start > end)
            {
                _w.WriteRaw(Replies.EmptyBulk);
                return;
            }

            if (start < 0)
            {
                start = Math.Max(0, length + start);
            }

            if (end < 0)
            {
                end = Math.Max(0, length + end);
            }

            end = Math.Min(end, length - 1);
            if (length == 0 || start > end)
            {
                _w.WriteRaw(Replies.EmptyBulk);
                return;
            }

            _w.WriteBulk(value.AsSpan((int)start, (int)(end - start + 1)));
        }
    }

    private void SetRange()
    {
        if (!TryArgInteger(2, out var offset))
        {
            return;
        }

        if (offset < 0)
        {
            _w.WriteError("ERR offset is out of range");
            return;
        }

        var patch = _req[3];
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
            if (patch.Length == 0)
            {
                _w.WriteInteger(old.Length); // nothing to write: the key is not created, and no length check (Redis)
                return;
            }

            if (!FitsStringLimit(offset, patch.Length))
            {
                return;
            }

            var length = (int)Math.Max(old.Length, offset + patch.Length);
            var value = length == old.Length ? old : new byte[length];
            if (!ReferenceEquals(value, old))
            {
                old.CopyTo(value, 0);
            }

            patch.CopyTo(value.AsSpan((int)offset));
            if (entry is null)
            {
                shard.Add(key.ToArray(), value, _now);
            }
            else
            {
                shard.SetValue(entry, value);
            }

            _w.WriteInteger(value.Length);
        }
    }

    // --- the options of SET and GETEX -------------------------------------------------------------------------------

    /// <summary>The flags SET and GETEX take besides an expiry.</summary>
    [Flags]
    private enum StringOptions
    {
        None = 0,
        Nx = 1,
        Xx = 2,
        Get = 4,
        KeepTtl = 8,
        Persist = 16,

        /// <summary>What SET takes.</summary>
        ForSet = Nx | Xx | Get | KeepTtl,

        /// <summary>What GETEX takes.</summary>
        ForGetEx = Persist,
    }

    /// <summary>
    /// Reads the options from <paramref name="start"/> on as Redis's parseExtendedStringArgumentsOrReply does: any of
    /// the <paramref name="accepted"/> flags, and at most one kind of expiry (EX, PX, EXAT or PXAT; the same kind again
    /// replaces the value) that neither KEEPTTL nor PERSIST may come with, NX not with XX. The expiry's value is checked
    /// after every option was read, so a syntax error anywhere wins over a bad number. <paramref name="expiresAt"/> is
    /// the absolute expiry in Unix milliseconds, 0 when none was given. False once the error reply is written.
    /// </summary>
    private bool TryParseStringOptions(int start, StringOptions accepted, string command, out StringOptions options, out long expiresAt)
    {
        options = StringOptions.None;
        expiresAt = 0;
        var kind = ExpireKind.None;
        var valueIndex = 0;
        for (var i = start; i < _req.Count; i++)
        {
            var flag = ParseStringOption(i) & accepted;
            ExpireKind expiry;
            if (flag != StringOptions.None && !ConflictsWith(flag, options, kind))
            {
                options |= flag;
            }
            else if ((expiry = ParseExpireKind(i)) != ExpireKind.None && (kind == ExpireKind.None || kind == expiry)
                     && (options & (StringOptions.KeepTtl | StringOptions.Persist)) == 0 && i + 1 < _req.Count)
            {
                kind = expiry;
                valueIndex = ++i;
            }
            else
            {
                _w.WriteRaw(Replies.SyntaxError);
                return false;
            }
        }

        return kind == ExpireKind.None || TryComputeExpiry(kind, valueIndex, command, out expiresAt);

        static bool ConflictsWith(StringOptions flag, StringOptions options, ExpireKind kind) => flag switch
        {
            StringOptions.Nx => (options & StringOptions.Xx) != 0,
            StringOptions.Xx => (options & StringOptions.Nx) != 0,
            StringOptions.KeepTtl => kind != ExpireKind.None || (options & StringOptions.Persist) != 0,
            StringOptions.Persist => kind != ExpireKind.None || (options & StringOptions.KeepTtl) != 0,
            _ => false,
        };
    }

    private StringOptions ParseStringOption(int index) =>
        Is(index, "NX"u8) ? StringOptions.Nx
        : Is(index, "XX"u8) ? StringOptions.Xx
        : Is(index, "GET"u8) ? StringOptions.Get
        : Is(index, "KEEPTTL"u8) ? StringOptions.KeepTtl
        : Is(index, "PERSIST"u8) ? StringOptions.Persist
        : StringOptions.None;

    private enum ExpireKind
    {
        None,
        Seconds,
        Milliseconds,
        UnixSeconds,
        UnixMilliseconds,
    }

    private ExpireKind ParseExpireKind(int index) =>
        Is(index, "EX"u8) ? ExpireKind.Seconds
        : Is(index, "PX"u8) ? ExpireKind.Milliseconds
        : Is(index, "EXAT"u8) ? ExpireKind.UnixSeconds
        : Is(index, "PXAT"u8) ? ExpireKind.UnixMilliseconds
        : ExpireKind.None;

    private bool TryComputeExpiry(ExpireKind kind, int valueIndex, string command, out long expiresAt)
    {
        expiresAt = 0;
        if (!TryArgInteger(valueIndex, out var amount))
        {
            return false;
        }

        var seconds = kind is ExpireKind.Seconds or ExpireKind.UnixSeconds;
        var relative = kind is ExpireKind.Seconds or ExpireKind.Milliseconds;
        if (amount <= 0 || (seconds && amount > long.MaxValue / 1000))
        {
            _w.WriteError($"ERR invalid expire time in '{command}' command");
            return false;
        }

        var ms = seconds ? amount * 1000 : amount;
        if (relative && ms > long.MaxValue - _now)
        {
            _w.WriteError($"ERR invalid expire time in '{command}' command");
            return false;
        }

        expiresAt = relative ? _now + ms : ms;
        return true;
    }
}
