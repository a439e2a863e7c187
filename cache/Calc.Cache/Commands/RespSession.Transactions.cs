using Calc.Cache.Protocol;
using Calc.Cache.Storage;

namespace Calc.Cache.Commands;

// Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH (Redis 7.0 semantics), and the exclusive section that EXEC and
// scripts run in (see Server/ExclusiveGate.cs and "Transactions and scripts" in cache/README.md).
internal sealed partial class RespSession
{
    private List<(CommandInfo Info, byte[][] Args)>? _queued; // non-null between MULTI and EXEC/DISCARD
    private bool _queueFailed; // a command was refused at queue time: EXEC answers EXECABORT
    private WatchState? _watch;
    private readonly List<(Keyspace Db, byte[] Key)> _watchedKeys = []; // a watch is on a key of a database number
    private bool _exclusive; // inside EXEC or a script: nested sections run inline

    /// <summary>Set by <see cref="Server.RespCommandBatch"/>: this session's batch runs under the gate.</summary>
    internal bool Gated { get; set; }

    /// <summary>Whether the batch holds the gate's shared mode (false while a busy script answers -BUSY).</summary>
    internal bool HoldsShared { get; set; }

    public bool InTransaction => _queued is not null;

    /// <summary>Commands that run at once inside MULTI (Redis: EXEC DISCARD MULTI WATCH QUIT RESET); the rest queue.</summary>
    private static bool RunsInsideMulti(CommandKind kind) =>
        kind is CommandKind.Exec or CommandKind.Discard or CommandKind.Multi or CommandKind.Watch or CommandKind.Quit or CommandKind.Reset;

    /// <summary>A command refused before it ran (unknown, arity, auth, OOM): inside MULTI it aborts the transaction.</summary>
    private void FlagTransaction()
    {
        if (_queued is not null)
        {
            _queueFailed = true;
        }
    }

    private void Queue(CommandInfo info)
    {
        var args = new byte[_req.Count][];
        for (var i = 0; i < args.Length; i++)
        {
            args[i] = _req.ToArray(i);
        }

        _queued!.Add((info, args));
        _w.WriteRaw("+QUEUED\r\n"u8);
    }

    private void Multi()
    {
        if (_queued is not null)
        {
            _w.WriteError("ERR MULTI calls can not be nested");
            return;
        }

        _queued = [];
        _queueFailed = false;
        _w.WriteRaw(Replies.Ok);
    }

    private void Discard()
    {
        if (_queued is null)
        {
            _w.WriteError("ERR DISCARD without MULTI");
            return;
        }

        EndTransaction();
        _w.WriteRaw(Replies.Ok);
    }

    private void Watch()
    {
        if (_queued is not null)
        {
            _w.WriteError("ERR WATCH inside MULTI is not allowed");
            return;
        }

        _watch ??= new WatchState();
        for (var i = 1; i < _req.Count; i++)
        {
            var key = _req.ToArray(i);
            var shard = _keyspace.ShardFor(key);
            lock (shard)
            {
                // An expired key is deleted first, so the watch starts from the key as clients see it.
                shard.Find(key, _now, touch: false);
                shard.Watch(key, _watch);
            }

            _watchedKeys.Add((_keyspace, key));
        }

        _w.WriteRaw(Replies.Ok);
    }

    private void UnwatchCommand()
    {
        Unwatch();
        _w.WriteRaw(Replies.Ok);
    }

    /// <summary>Forgets every watched key (EXEC, DISCARD, UNWATCH, RESET, and the connection's end).</summary>
    internal void Unwatch()
    {
        if (_watch is null)
        {
            return;
        }

        foreach (var (db, key) in _watchedKeys)
        {
            var shard = db.ShardFor(key);
            lock (shard)
            {
                shard.Unwatch(key, _watch);
            }
        }

        _watchedKeys.Clear();
        _watch = null;
    }

    /// <summary>The connection ended: its watches leave the shards.</summary>
    internal void Closed()
    {
        EndTransaction();
        UnsubscribeAll();
    }

    private void EndTransaction()
    {
        _queued = null;
        _queueFailed = false;
        Unwatch();
    }

    private void Exec()
    {
        if (_queued is null)
        {
            _w.WriteError("ERR EXEC without MULTI");
            return;
        }

        if (_queueFailed)
        {
            EndTransaction();
            _w.WriteError("EXECABORT Transaction discarded because of previous errors.");
            return;
        }

        RunExclusive(this, static self => self.ExecQueued());
    }

    private void ExecQueued()
    {
        var queued = _queued!;
        var watch = _watch;
        if (watch is not null)
        {
            // Lazy expiry of the watched keys first: a key that expired since WATCH is a change (Redis 7).
            foreach (var (db, key) in _watchedKeys)
            {
                var shard = db.ShardFor(key);
                lock (shard)
                {
                    shard.Find(key, _now, touch: false);
                }
            }
        }

        var aborted = watch is { Dirty: true };
        EndTransaction();
        if (aborted)
        {
            _w.WriteNullArray();
            return;
        }

        _w.WriteArrayHeader(queued.Count);
        var outer = _req;
        var request = new RespRequest();
        try
        {
            foreach (var (info, args) in queued)
            {
                request.Reset();
                foreach (var arg in args)
                {
                    request.Add(arg);
                }

                _req = request;
                _now = Clock.UnixMs;
                _lastCommand = info;
                Run(info);
            }
        }
        finally
        {
            _req = outer;
        }
    }

    /// <summary>
    /// Runs <paramref name="body"/> with no other batch running on any loop. Leaves this batch's shared mode for the
    /// time (the section waits for every shared holder) and takes it again after; nested sections (EVAL inside EXEC)
    /// run inline.
    /// </summary>
    private void RunExclusive<TState>(TState state, Action<TState> body)
    {
        if (_exclusive || !Gated)
        {
            // Inside a section already, or not a client connection (AOF replay runs alone).
            var was = _exclusive;
            _exclusive = true;
            try
            {
                body(state);
            }
            finally
            {
                _exclusive = was;
            }

            return;
        }

        var gate = _server.Gate;
        if (HoldsShared)
        {
            gate.ExitShared();
            HoldsShared = false;
        }

        try
        {
            _exclusive = true;
            gate.RunExclusive((body, state), static s => s.body(s.state));
        }
        finally
        {
            _exclusive = false;
            HoldsShared = gate.EnterShared();
        }
    }
}
