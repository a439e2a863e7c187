using Calc.Cache.Storage;

namespace Calc.Cache.Commands;

// The numbered databases: SELECT, SWAPDB, MOVE, COPY (Redis 7.0 semantics; see "Databases" in cache/README.md).
internal sealed partial class RespSession
{
    private void Select()
    {
        if (!TryArgInteger(1, out var index))
        {
            return;
        }

        if (index < 0 || index >= _server.Databases.Count)
        {
            _w.WriteRaw(Replies.DbIndexOutOfRange);
            return;
        }

        SelectDatabase((int)index);
        _w.WriteRaw(Replies.Ok);
    }

    /// <summary>Parses a database number as Redis's getIntFromObjectOrReply (32-bit); replies with the error on failure.</summary>
    private bool TryArgDatabase(int index, string? notIntegerError, out int db)
    {
        db = -1;
        if (!TryParseInteger(_req[index], out var value) || value is < int.MinValue or > int.MaxValue)
        {
            if (notIntegerError is null)
            {
                _w.WriteRaw(Replies.NotInteger);
            }
            else
            {
                _w.WriteError(notIntegerError);
            }

            return false;
        }

        if (value < 0 || value >= _server.Databases.Count)
        {
            _w.WriteRaw(Replies.DbIndexOutOfRange);
            return false;
        }

        db = (int)value;
        return true;
    }

    /// <summary>
    /// SWAPDB a b: in the gate's exclusive section, so no command on any loop sees half a swap. Every connection stays
    /// on its database number and sees the other contents; WATCHes of keys that exist on either side are dirty; clients
    /// blocked on a key that now holds a list are served (all as Redis's dbSwapDatabases).
    /// </summary>
    private void SwapDb()
    {
        if (!TryArgDatabase(1, "ERR invalid first DB index", out var first) || !TryArgDatabase(2, "ERR invalid second DB index", out var second))
        {
            return;
        }

        if (first != second)
        {
            RunExclusive((Self: this, A: _server.Databases[first], B: _server.Databases[second]), static s =>
            {
                s.A.SwapWith(s.B);
                s.Self.ReadyAfterSwap(s.A);
                s.Self.ReadyAfterSwap(s.B);
            });
        }

        _w.WriteRaw(Replies.Ok);
    }

    private void ReadyAfterSwap(Keyspace db)
    {
        foreach (var key in db.Blocking.Keys())
        {
            var shard = db.ShardFor(key);
            lock (shard)
            {
                if (shard.Find(key, _now, touch: false) is { Value: ListValue })
                {
                    ListPushed(db, key);
                }
            }
        }
    }

    private void Move()
    {
        if (!TryArgDatabase(2, null, out var dbIndex))
        {
            return;
        }

        if (dbIndex == _keyspace.Index)
        {
            _w.WriteError("ERR source and destination objects are the same");
            return;
        }

        var key = _req[1];
        var target = _server.Databases[dbIndex];
        var index = Keyspace.ShardIndex(key);
        using var locks = Databases.LockPair(_keyspace, index, target, index);
        var source = _keyspace[index];
        var entry = source.Find(key, _now);
        var destination = target[index];
        if (entry is null || destination.Find(key, _now) is not null)
        {
            _w.WriteRaw(Replies.Zero);
            return;
        }

        source.Remove(entry);
        var moved = destination.Add(entry.Key, entry.Value, _now, entry.ExpiresAt);
        if (moved.Value is ListValue)
        {
            ListPushed(target, moved.Key);
        }

        _otherDatabase = target;
        _w.WriteRaw(Replies.One);
    }

    /// <summary>COPY source destination [DB n] [REPLACE]: a deep copy with the source's expiry and OBJECT ENCODING.</summary>
    private void Copy()
    {
        var target = _keyspace;
        var replace = false;
        for (var i = 3; i < _req.Count; i++)
        {
            if (Is(i, "REPLACE"u8))
            {
                replace = true;
            }
            else if (Is(i, "DB"u8) && i + 1 < _req.Count)
            {
                if (!TryArgDatabase(i + 1, null, out var dbIndex))
                {
                    return;
                }

                target = _server.Databases[dbIndex];
                i++;
            }
            else
            {
                _w.WriteRaw(Replies.SyntaxError);
                return;
            }
        }

        var from = _req[1];
        var to = _req[2];
        if (ReferenceEquals(target, _keyspace) && from.SequenceEqual(to))
        {
            _w.WriteError("ERR source and destination objects are the same");
            return;
        }

        var fromIndex = Keyspace.ShardIndex(from);
        var toIndex = Keyspace.ShardIndex(to);
        IDisposable locks = ReferenceEquals(target, _keyspace)
            ? _keyspace.LockShards([fromIndex, toIndex])
            : Databases.LockPair(_keyspace, fromIndex, target, toIndex);
        using (locks)
        {
            var entry = _keyspace[fromIndex].Lookup(from, _now);
            if (entry is null)
            {
                _w.WriteRaw(Replies.Zero);
                return;
            }

            // A copy is as deep as the collection: bounded like every other command that walks one.
            if (entry.Value is CollectionValue collection && !WithinScanLimit(collection.Count, "elements", "a collection this large cannot be copied in one command"))
            {
                return;
            }

            var destination = target[toIndex];
            if (destination.Find(to, _now) is { } existing)
            {
                if (!replace)
                {
                    _w.WriteRaw(Replies.Zero);
                    return;
                }

                destination.Remove(existing);
            }

            var copy = destination.Add(to.ToArray(), CloneValue(entry.Value), _now, entry.ExpiresAt);
            if (copy.Value is ListValue)
            {
                ListPushed(target, copy.Key);
            }
        }

        if (!ReferenceEquals(target, _keyspace))
        {
            _otherDatabase = target;
        }

        _w.WriteRaw(Replies.One);
    }

    private static object CloneValue(object value) => value switch
    {
        byte[] bytes => bytes.ToArray(), // strings change in place (SETRANGE, SETBIT): never shared
        HashValue hash => hash.Clone(),
        ListValue list => list.Clone(),
        SetValue set => set.Clone(),
        SortedSetValue zset => zset.Clone(),
        _ => throw new InvalidOperationException($"COPY of an unknown value type {value.GetType().Name}"),
    };
}
