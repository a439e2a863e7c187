using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Calc.Epoll;

namespace Calc.Cache.Server;

/// <summary>
/// One event-loop thread with its epoll instance; the transport has one per io-thread, shared by its listeners. Everything
/// about a connection's socket and buffers happens on the thread of the loop that owns it; other threads (Kestrel's
/// accept and shutdown, the connection handler, another loop handing a connection over) only post, and an eventfd
/// wakes the loop for that.
/// <para>
/// The loop measures its own load (the share of time it is not waiting for events) over windows of
/// <see cref="EpollLoopGroup.WindowMs"/> and, at the end of each window, lets its <see cref="EpollLoopGroup"/> decide
/// whether some of its connections should move to another loop (see there). After a round that found work, it polls
/// for <see cref="EpollLoopGroup.BusyPollTicks"/> before it sleeps: a loop that is not woken does not take the core
/// of the client that is about to write to it.
/// </para>
/// </summary>
internal sealed unsafe class EpollLoop
{
    private readonly EpollLoopGroup _group;
    private readonly EpollInstance _epoll = new();
    private readonly Thread _thread;
    private readonly ConcurrentQueue<EpollConnection> _posted = new();
    private readonly HashSet<EpollConnection> _connections = [];
    private readonly List<EpollConnection> _stalled = [];
    private readonly List<EpollConnection> _sendQueue = [];
    private readonly List<GCHandle<EpollConnection>> _released = [];
    private readonly List<(EpollConnection Connection, long Work)> _moveCandidates = [];
    private int _wakePending;
    private volatile bool _stopping;
    private volatile int _loadPermille;
    private volatile int _previousLoadPermille;
    private volatile int _clients;
    private long _connectionsMovedIn;
    private long _windowStart;
    private long _windowIdle;
    private int _cooldownWindows;
    private volatile EpollLoop? _moveAllTo;
    private long _roundStarted; // Stopwatch ticks when the current round of events began; 0 while waiting

    public EpollLoop(EpollLoopGroup group, int index)
    {
        _group = group;
        Index = index;
        _thread = new Thread(Run) { IsBackground = true, Name = $"Calc.Cache epoll {index}" };
        _thread.Start();
    }

    /// <summary>Loop thread: the number of the current load window, which stamps the connections' work counts.</summary>
    public long Window { get; private set; }

    /// <summary>The loop's place in its group: lower loops are filled first.</summary>
    public int Index { get; }

    /// <summary>The share of the last window the loop spent working, in thousandths; 0 while it has no connections.</summary>
    public int LoadPermille => _loadPermille;

    /// <summary>The load of the window before the last, so that one busy window alone moves nothing.</summary>
    public int PreviousLoadPermille => _previousLoadPermille;

    /// <summary>The lower of the last two windows' loads: what a loop is busy with, not a burst.</summary>
    public int SteadyLoadPermille => Math.Min(_loadPermille, _previousLoadPermille);

    /// <summary>
    /// Any thread: the loop has been inside one round of events for two windows or more (a long script, DEBUG SLEEP),
    /// so a new connection placed here would wait for it; new connections go elsewhere meanwhile, which lets a client
    /// connect and send SCRIPT KILL.
    /// </summary>
    public bool IsStuck
    {
        get
        {
            var started = Volatile.Read(ref _roundStarted);
            return started != 0 && Stopwatch.GetTimestamp() - started > 2 * EpollLoopGroup.WindowTicks;
        }
    }

    /// <summary>What INFO threads shows of this loop.</summary>
    public IoThreadStats Stats => new(Index, _clients, _loadPermille, Interlocked.Read(ref _connectionsMovedIn));

    /// <summary>Queues <paramref name="connection"/> for <see cref="EpollConnection.OnPosted"/> on the loop thread; any thread.</summary>
    public void Post(EpollConnection connection)
    {
        _posted.Enqueue(connection);
        if (Interlocked.Exchange(ref _wakePending, 1) == 0)
        {
            Wake();
        }
    }

    /// <summary>Any thread: asks the loop to hand every connection it can to <paramref name="target"/> (tests, operations).</summary>
    public void MoveAllTo(EpollLoop target)
    {
        _moveAllTo = target;
        Wake();
    }

    /// <summary>Asks the loop thread to end; <see cref="Join"/> waits for it.</summary>
    public void BeginStop()
    {
        _stopping = true;
        Wake();
    }

    /// <summary>Waits up to 5 s for the loop thread to close the connections it still has and its descriptors.</summary>
    public void Join() => _thread.Join(TimeSpan.FromSeconds(5));

    private void Wake() => _epoll.Wake();

    public void Control(int fd, nint data, int op, uint events) => _epoll.Control(fd, (ulong)data, op, events);

    /// <summary>Loop thread: <paramref name="connection"/> has replies to send once this round of events is handled.</summary>
    public void QueueSend(EpollConnection connection) => _sendQueue.Add(connection);

    /// <summary>Loop thread: a connection starts or ends being served here.</summary>
    public void Track(EpollConnection connection)
    {
        _connections.Add(connection);
        _clients = _connections.Count;
    }

    public void Untrack(EpollConnection connection)
    {
        _connections.Remove(connection);
        _clients = _connections.Count;
    }

    /// <summary>Loop thread: a connection another loop handed over is served here from now on.</summary>
    public void Adopt(EpollConnection connection)
    {
        Track(connection);
        Interlocked.Increment(ref _connectionsMovedIn);
    }

    /// <summary>Loop thread: watch a connection whose replies wait for the socket, for the output timeout.</summary>
    public void AddStalled(EpollConnection connection) => _stalled.Add(connection);

    public void RemoveStalled(EpollConnection connection) => _stalled.Remove(connection);

    /// <summary>Loop thread: frees a closed connection's handle once the current batch of events has been handled.</summary>
    public void Release(GCHandle<EpollConnection> handle) => _released.Add(handle);

    private void Run()
    {
        var events = _epoll.Events;
        var nextStallCheck = 0L;
        var lastWork = 0L;
        _windowStart = Stopwatch.GetTimestamp();
        while (!_stopping)
        {
            Volatile.Write(ref _roundStarted, 0);
            var count = Wait(lastWork);
            Volatile.Write(ref _roundStarted, Stopwatch.GetTimestamp());
            for (var i = 0; i < count; i++)
            {
                var data = (nint)events[i].Data;
                if (data == 0)
                {
                    DrainPosted();
                    continue;
                }

                // The epoll data is a handle to the connection: no lookup table, nothing shared with other threads.
                var connection = GCHandle<EpollConnection>.FromIntPtr(data).Target;
                try
                {
                    connection.OnEvents(events[i].Events);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    // A bug in one connection must not stop the loop that serves the others.
                    connection.Close(ex);
                }
            }

            for (var i = 0; i < _sendQueue.Count; i++)
            {
                var connection = _sendQueue[i];
                try
                {
                    connection.SendQueued();
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    connection.Close(ex);
                }
            }

            _sendQueue.Clear();
            if (_stalled.Count > 0 && Environment.TickCount64 >= nextStallCheck)
            {
                var tick = Environment.TickCount64;
                nextStallCheck = tick + EpollLoopGroup.WindowMs;
                for (var i = _stalled.Count - 1; i >= 0 && i < _stalled.Count; i--)
                {
                    _stalled[i].CheckOutputTimeout(tick);
                }
            }

            ReleaseHandles();
            if (_moveAllTo is { } moveTo)
            {
                _moveAllTo = null;
                foreach (var connection in _connections.ToArray())
                {
                    connection.TryMoveTo(moveTo);
                }
            }

            var now = Stopwatch.GetTimestamp();
            if (count > 0)
            {
                lastWork = now; // a wake-up with nothing to do (the window timeout) starts no polling
            }

            if (now - _windowStart >= EpollLoopGroup.WindowTicks)
            {
                EndWindow(now);
            }
        }

        foreach (var connection in _connections.ToArray())
        {
            connection.Close(null);
        }

        // Connections handed to this loop that it never took: closed here, so their handlers end.
        while (_posted.TryDequeue(out var connection))
        {
            connection.CloseIfOwnedBy(this);
        }

        ReleaseHandles();
        _epoll.Close();
    }

    /// <summary>
    /// The next events: polled without sleeping for a while after the last round that had work, then waited for
    /// (at most a window while the loop has connections, so its load stays current; the time counts as idle).
    /// </summary>
    private int Wait(long lastWork)
    {
        var start = Stopwatch.GetTimestamp();
        var count = 0;
        if (_group.BusyPollTicks > 0)
        {
            while ((count = _epoll.Wait(0)) == 0
                && Stopwatch.GetTimestamp() - lastWork < _group.BusyPollTicks)
            {
            }
        }

        if (count == 0)
        {
            if (_connections.Count == 0)
            {
                _loadPermille = _previousLoadPermille = 0;
            }

            count = _epoll.Wait(_connections.Count == 0 ? -1 : EpollLoopGroup.WindowMs);
        }

        _windowIdle += Stopwatch.GetTimestamp() - start;
        return count;
    }

    /// <summary>Publishes the window's load and lets the group move connections off this loop if it should.</summary>
    private void EndWindow(long now)
    {
        var elapsed = now - _windowStart;
        var load = (int)Math.Clamp((elapsed - _windowIdle) * 1000 / elapsed, 0, 1000);
        _previousLoadPermille = _loadPermille;
        _loadPermille = _connections.Count == 0 ? 0 : load;
        _windowStart = now;
        _windowIdle = 0;
        if (_cooldownWindows > 0)
        {
            _cooldownWindows--;
        }
        else if (_group.Rebalance(this, _connections, _moveCandidates))
        {
            _cooldownWindows = EpollLoopGroup.CooldownWindows; // let the loads settle before deciding again
        }

        Window++; // connections' work counted so far belongs to the window that just ended
    }

    private void ReleaseHandles()
    {
        if (_released.Count > 0)
        {
            foreach (var handle in _released)
            {
                handle.Dispose();
            }

            _released.Clear();
        }
    }

    private void DrainPosted()
    {
        _epoll.ConsumeWake();
        // Before draining, and a full fence: the queue must not be read before the flag is cleared (a plain store may
        // be delayed past the reads on x64), or a post in between would find the flag set and wake nobody.
        Interlocked.Exchange(ref _wakePending, 0);
        while (_posted.TryDequeue(out var connection))
        {
            try
            {
                connection.OnPosted(this);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                connection.Close(ex);
            }
        }
    }
}
