using Calc.Cache.Storage;

namespace Calc.Cache.Commands;

// Blocking list pops (BLPOP BRPOP BLMPOP BLMOVE BRPOPLPUSH), as Redis does them: a pop that finds every key empty
// registers the client on its keys and the connection stops executing its further commands; a command that pushes
// to one of those keys serves the longest-waiting client once it is done (ServeBlockedClients, on the pusher's
// thread, whichever loop that is), and the blocked client's own loop writes the reply (ResumeBlocked). The timeout
// is a timer; a client that disconnects is removed (CancelBlocked). A blocked client holds no thread and no lock.
internal sealed partial class RespSession
{
    private BlockedPop? _blocked;
    private List<(Keyspace Db, byte[] Key)>? _readyKeys; // lists that got elements while clients wait on them, by database

    /// <summary>
    /// Set by the connection loop: wakes it (from any thread) once the blocked command has its answer. Null where a
    /// command cannot block (the AOF replay): blocking pops then answer as if their timeout had passed.
    /// </summary>
    public Action? WakeBlocked { get; set; }

    /// <summary>The last command blocked: the loop must not run further commands until <see cref="ResumeBlocked"/>.</summary>
    public bool IsBlocked => _blocked is not null;

    /// <summary>The connection's loop, after its wake-up: writes the blocked command's reply.</summary>
    public void ResumeBlocked()
    {
        var waiter = _blocked;
        if (waiter is null)
        {
            return;
        }

        _blocked = null;
        if (waiter.WrongType)
        {
            _w.WriteRaw(Replies.WrongType);
        }
        else if (!waiter.IsServed)
        {
            _w.WriteNullArray(); // BLMOVE too: Redis answers every blocking list command's timeout with the null array
        }
        else if (waiter.PopCount > 0)
        {
            _w.WriteArrayHeader(2);
            _w.WriteBulk(waiter.ServedKey);
            _w.WriteArrayHeader(waiter.ServedValues!.Length);
            foreach (var value in waiter.ServedValues)
            {
                _w.WriteBulk(value);
            }
        }
        else if (waiter.Destination is null)
        {
            _w.WriteArrayHeader(2);
            _w.WriteBulk(waiter.ServedKey);
            _w.WriteBulk(waiter.ServedValue);
        }
        else
        {
            _w.WriteBulk(waiter.ServedValue);
        }
    }

    /// <summary>The connection closed: a blocked command stops waiting (any thread).</summary>
    public void CancelBlocked() => _blocked?.Cancel();

    /// <summary>Called with <paramref name="key"/>'s shard locked after elements were added to its list.</summary>
    private void ListPushed(byte[] key)
    {
        ListPushed(_keyspace, key);
    }

    /// <summary>Called with <paramref name="key"/>'s shard in <paramref name="db"/> locked after it became a non-empty list.</summary>
    private void ListPushed(Keyspace db, byte[] key)
    {
        if (db.Blocking.HasWaiters(key))
        {
            (_readyKeys ??= []).Add((db, key));
        }
    }

    /// <summary>Redis's getTimeoutFromObjectOrReply (seconds, fractions allowed) in milliseconds.</summary>
    private bool TryArgTimeout(int index, out long milliseconds)
    {
        milliseconds = 0;
        if (!TryParseDouble(_req[index], out var seconds) || double.IsInfinity(seconds))
        {
            _w.WriteError("ERR timeout is not a float or out of range");
            return false;
        }

        var ms = Math.Ceiling(seconds * 1000.0);
        if (ms > long.MaxValue / 2)
        {
            _w.WriteError("ERR timeout is out of range");
            return false;
        }

        if (ms < 0)
        {
            _w.WriteError("ERR timeout is negative");
            return false;
        }

        milliseconds = (long)ms;
        return true;
    }

    /// <summary>BLPOP / BRPOP key [key ...] timeout.</summary>
    private void BlockingPop(bool left)
    {
        if (!TryArgTimeout(_req.Count - 1, out var timeout))
        {
            return;
        }

        var keyCount = _req.Count - 2;
        Span<int> indices = keyCount <= 64 ? stackalloc int[keyCount] : new int[keyCount];
        for (var i = 0; i < keyCount; i++)
        {
            indices[i] = Keyspace.ShardIndex(_req[i + 1]);
        }

        using var locks = _keyspace.LockShards(indices);
        if (!TryFindFirstExisting<ListValue>(1, keyCount, out var key, out var shard, out var entry, out var list))
        {
            return;
        }

        if (list is not null)
        {
            var value = left ? list.PopLeft() : list.PopRight();
            ListChanged(shard!, entry!, list);
            _logAs = [left ? "LPOP"u8.ToArray() : "RPOP"u8.ToArray(), key.ToArray()];
            _w.WriteArrayHeader(2);
            _w.WriteBulk(key);
            _w.WriteBulk(value);
            return;
        }

        _logNothing = true;
        if (WakeBlocked is null || _exclusive) // inside EXEC (and scripts, whose session has no WakeBlocked) a pop never blocks, as in Redis
        {
            _w.WriteNullArray();
            return;
        }

        var keys = new byte[keyCount][];
        for (var i = 0; i < keyCount; i++)
        {
            keys[i] = _req.ToArray(i + 1);
        }

        Block(new BlockedPop(_keyspace.Blocking, keys, left, null, false, WakeBlocked), timeout);
    }

    /// <summary>BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout, and BRPOPLPUSH source destination timeout.</summary>
    private void BlockingMove(bool legacy)
    {
        bool fromLeft = false, toLeft = true;
        if (!legacy && (!TryArgSide(3, out fromLeft) || !TryArgSide(4, out toLeft)))
        {
            return;
        }

        if (!TryArgTimeout(_req.Count - 1, out var timeout))
        {
            return;
        }

        var source = _req[1];
        var destination = _req[2];
        using var locks = _keyspace.LockShards([Keyspace.ShardIndex(source), Keyspace.ShardIndex(destination)]);
        if (_keyspace.ShardFor(source).Find(source, _now) is not null)
        {
            var value = MoveOne(source, destination, fromLeft, toLeft, out var wrongType);
            if (wrongType)
            {
                _w.WriteRaw(Replies.WrongType);
                return;
            }

            _logAs = ["LMOVE"u8.ToArray(), source.ToArray(), destination.ToArray(), Side(fromLeft), Side(toLeft)];
            _w.WriteBulk(value);
            return;
        }

        _logNothing = true;
        if (WakeBlocked is null || _exclusive) // inside EXEC (and scripts, whose session has no WakeBlocked) a pop never blocks, as in Redis
        {
            _w.WriteNullArray();
            return;
        }

        Block(new BlockedPop(_keyspace.Blocking, [source.ToArray()], fromLeft, destination.ToArray(), toLeft, WakeBlocked), timeout);
    }

    private static byte[] Side(bool left) => left ? "LEFT"u8.ToArray() : "RIGHT"u8.ToArray();

    // Called with the keys' shards locked, so no push can come between the empty check and the registration.
    private void Block(BlockedPop waiter, long timeoutMs)
    {
        _keyspace.Blocking.Add(waiter);
        _blocked = waiter;
        waiter.StartTimer(timeoutMs);
    }

    /// <summary>
    /// After a command that pushed to lists others are blocked on (no shard lock held; the log's lock held when
    /// persistence is on): serves the waiters in arrival order while their keys hold elements. Each pop is logged as
    /// the LPOP/RPOP/LMOVE it amounts to, after the command that made it possible.
    /// </summary>
    private void ServeBlockedClients(AppendOnlyFile? aof)
    {
        var ready = _readyKeys!;
        var selected = _keyspace;
        try
        {
            for (var i = 0; i < ready.Count; i++)
            {
                var (db, key) = ready[i];
                _keyspace = db; // MOVE, COPY ... DB and SWAPDB make lists ready in another database than the selected one
                while (db.Blocking.First(key) is { } waiter && ServeOne(key, waiter, aof))
                {
                }
            }
        }
        finally
        {
            _keyspace = selected;
            ready.Clear();
        }
    }

    /// <summary>Serves <paramref name="waiter"/> from <paramref name="key"/>; false when the key holds no list to pop from.</summary>
    private bool ServeOne(byte[] key, BlockedPop waiter, AppendOnlyFile? aof)
    {
        var destination = waiter.Destination;
        using var locks = destination is null
            ? _keyspace.LockShards([Keyspace.ShardIndex(key)])
            : _keyspace.LockShards([Keyspace.ShardIndex(key), Keyspace.ShardIndex(destination)]);
        var shard = _keyspace.ShardFor(key);
        if (shard.Find(key, _now, touch: false) is not { Value: ListValue list } entry)
        {
            return false;
        }

        if (!waiter.TryClaim())
        {
            _keyspace.Blocking.Remove(waiter); // timed out or gone meanwhile; the next one may still be served
            return true;
        }

        if (destination is not null)
        {
            var value = MoveOne(key, destination, waiter.Left, waiter.DestinationLeft, out var wrongType);
            if (wrongType)
            {
                waiter.CompleteWrongType();
                return true;
            }

            if (aof is not null && !_replaying)
            {
                SelectInLog(aof);
                aof.Records.Append(["LMOVE"u8.ToArray(), key, destination, Side(waiter.Left), Side(waiter.DestinationLeft)]);
                if (aof.RewriteRecords is { } rewrite)
                {
                    LogKeyState(rewrite, key);
                    LogKeyState(rewrite, destination);
                }
            }

            waiter.Complete(key, value!);
            return true;
        }

        if (waiter.PopCount > 0)
        {
            var values = new byte[Math.Min(waiter.PopCount, list.Count)][];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = waiter.Left ? list.PopLeft() : list.PopRight();
            }

            ListChanged(shard, entry, list);
            if (aof is not null && !_replaying)
            {
                aof.Records.Append([waiter.Left ? "LPOP"u8.ToArray() : "RPOP"u8.ToArray(), key, CountArgument(values.Length)]);
                if (aof.RewriteRecords is { } rewrite)
                {
                    LogKeyState(rewrite, key);
                }
            }

            waiter.Complete(key, values);
            return true;
        }

        var popped = waiter.Left ? list.PopLeft() : list.PopRight();
        ListChanged(shard, entry, list);
        if (aof is not null && !_replaying)
        {
            SelectInLog(aof);
            aof.Records.Append([waiter.Left ? "LPOP"u8.ToArray() : "RPOP"u8.ToArray(), key]);
            if (aof.RewriteRecords is { } rewrite)
            {
                LogKeyState(rewrite, key);
            }
        }

        waiter.Complete(key, popped);
        return true;
    }
}
