using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Calc.Epoll;

namespace Calc.Gateway.FastLane;

/// <summary>Something registered with an <see cref="EventLoop"/>: told on the loop thread when its socket is ready.</summary>
internal interface IEventTarget
{
    void OnEvents(uint events);
}

/// <summary>
/// One fast-lane event loop: a thread with its own epoll instance serving the client connections given to it and the
/// connections to instances they use, level-triggered, as nginx's workers do. Everything about a connection happens on
/// its loop's thread, so connections, the idle upstream pool and the deadlines need no locks. New client sockets
/// arrive from the accept loop through a queue and an eventfd that wakes the loop.
/// </summary>
internal sealed unsafe partial class EventLoop
{
    private const int ScanIntervalMs = 20;

    private readonly EpollInstance _epoll = new();
    private readonly FastLaneServices _lane;
    private readonly ConcurrentQueue<(Socket Socket, FastLaneListener Listener)> _adopted = new();
    private readonly List<GCHandle> _released = [];
    private readonly HashSet<ClientConnection> _clients = [];
    private readonly List<ClientConnection> _waiting = [];
    private readonly Dictionary<string, Stack<UpstreamConnection>> _idle = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _upstreamCounts = new(StringComparer.Ordinal);
    private readonly Random _ids = new();
    private volatile bool _draining;
    private long _nextScan;
    private long _nextIdleScan;

    public EventLoop(int index, FastLaneServices lane)
    {
        _lane = lane;
        new Thread(Run) { IsBackground = true, Name = $"Calc.Gateway fast lane {index}" }.Start();
    }

    /// <summary>Milliseconds (<see cref="Environment.TickCount64"/>) at the start of the current batch of events.</summary>
    public long Now { get; private set; } = Environment.TickCount64;

    public FastLaneServices Lane => _lane;

    // Counters: written by the loop thread only, with plain increments (no atomics on the request path); /status reads
    // them from other threads, which on x64 (the only place the fast lane runs) sees whole, at worst slightly old, values.

    /// <summary>Requests this loop answered from an instance.</summary>
    public long Forwarded { get; set; }

    /// <summary>Connections this loop handed to Kestrel.</summary>
    public long HandedOff { get; set; }

    /// <summary>Requests this loop answered 400 for a head <see cref="RequestHeadParser"/> rejected.</summary>
    public long Refused { get; set; }

    /// <summary>Takes an accepted client socket (any thread); the loop thread starts serving it.</summary>
    public void Adopt(Socket socket, FastLaneListener listener)
    {
        _adopted.Enqueue((socket, listener));
        Wake();
    }

    /// <summary>Stops taking requests: idle connections close now, busy ones after their response (any thread).</summary>
    public void Drain()
    {
        _draining = true;
        Wake();
    }

    public bool Draining => _draining;

    /// <summary>
    /// Writes a new request id: 32 lower-case hex digits, like the full path's <c>Guid.ToString("N")</c>, from this
    /// loop's own generator (Guid.NewGuid asks the kernel for randomness: a system call per request). Ids only
    /// correlate log lines; they need to be unique, not unpredictable.
    /// </summary>
    public void NewRequestId(Span<byte> destination)
    {
        Span<byte> random = stackalloc byte[16];
        _ids.NextBytes(random);
        Convert.TryToHexStringLower(random, destination, out _);
    }

    /// <summary>Random bytes for ids (trace and span ids): the loop's own generator, no lock.</summary>
    public void NextBytes(Span<byte> destination) => _ids.NextBytes(destination);

    public GCHandle Register(int fd, IEventTarget target, uint events)
    {
        var handle = GCHandle.Alloc(target);
        _epoll.Control(fd, (ulong)GCHandle.ToIntPtr(handle), Native.EpollCtlAdd, events);
        return handle;
    }

    public void Modify(int fd, GCHandle handle, uint events) =>
        _epoll.Control(fd, (ulong)GCHandle.ToIntPtr(handle), Native.EpollCtlMod, events);

    /// <summary>Stops watching <paramref name="fd"/>; the handle is freed after the current batch (later events in it may still name it).</summary>
    public void Unregister(int fd, GCHandle handle)
    {
        _epoll.Control(fd, 0, Native.EpollCtlDel, 0);
        _released.Add(handle);
    }

    public void Forget(ClientConnection client) => _clients.Remove(client);

    /// <summary>Watches the exchange's deadline (<see cref="ClientConnection.Deadline"/>).</summary>
    public void Watch(ClientConnection client)
    {
        if (client.WaitingSlot < 0)
        {
            client.WaitingSlot = _waiting.Count;
            _waiting.Add(client);
        }
    }

    public void Unwatch(ClientConnection client)
    {
        var slot = client.WaitingSlot;
        if (slot < 0)
        {
            return;
        }

        var last = _waiting[^1];
        _waiting[slot] = last;
        last.WaitingSlot = slot;
        _waiting.RemoveAt(_waiting.Count - 1);
        client.WaitingSlot = -1;
    }

    /// <summary>An idle pooled connection to the instance, or a new one (connecting); null at the connection limit.</summary>
    public UpstreamConnection? RentUpstream(Balancing.UpstreamInstance instance, System.Net.IPEndPoint endPoint)
    {
        var key = instance.BaseUrl;
        if (_idle.TryGetValue(key, out var idle))
        {
            while (idle.TryPop(out var connection))
            {
                if (connection.IsOpen)
                {
                    return connection;
                }
            }
        }

        var count = _upstreamCounts.GetValueOrDefault(key);
        if (count >= _lane.MaxConnectionsPerInstance)
        {
            return null;
        }

        var created = UpstreamConnection.Open(this, key, endPoint);
        if (created is not null)
        {
            _upstreamCounts[key] = count + 1;
        }

        return created;
    }

    public void ReturnUpstream(UpstreamConnection connection)
    {
        if (_draining)
        {
            connection.Close();
            return;
        }

        if (!_idle.TryGetValue(connection.PoolKey, out var idle))
        {
            _idle[connection.PoolKey] = idle = new Stack<UpstreamConnection>();
        }

        idle.Push(connection);
    }

    /// <summary>Called once when an upstream connection closes, so the per-instance count stays right.</summary>
    public void UpstreamClosed(UpstreamConnection connection)
    {
        if (_upstreamCounts.TryGetValue(connection.PoolKey, out var count))
        {
            if (count <= 1)
            {
                _upstreamCounts.Remove(connection.PoolKey);
            }
            else
            {
                _upstreamCounts[connection.PoolKey] = count - 1;
            }
        }
    }

    private void Wake() => _epoll.Wake();

    private void Run()
    {
        var events = _epoll.Events;
        while (true)
        {
            var timeout = _waiting.Count > 0 || _draining ? ScanIntervalMs : 1000;
            var count = _epoll.Wait(timeout);
            Now = Environment.TickCount64;
            for (var i = 0; i < count; i++)
            {
                var data = events[i].Data;
                if (data == 0)
                {
                    AdoptQueued();
                    continue;
                }

                if (GCHandle.FromIntPtr((nint)data).Target is IEventTarget target)
                {
                    Dispatch(target, events[i].Events);
                }
            }

            foreach (var handle in _released)
            {
                handle.Free();
            }

            _released.Clear();
            if (Now >= _nextScan)
            {
                _nextScan = Now + ScanIntervalMs;
                Scan();
            }
        }
    }

    private void Dispatch(IEventTarget target, uint events)
    {
        try
        {
            target.OnEvents(events);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // A bug in one connection must not stop the loop that serves the others.
            LogConnectionFailed(_lane.Logger, exception);
            (target as ClientConnection)?.Abort();
            (target as UpstreamConnection)?.Fail("the gateway failed handling it");
        }
    }

    private void AdoptQueued()
    {
        _epoll.ConsumeWake();
        while (_adopted.TryDequeue(out var adopted))
        {
            if (_draining)
            {
                adopted.Listener.HandOff(adopted.Socket, ReadOnlyMemory<byte>.Empty);
                continue;
            }

            _clients.Add(new ClientConnection(this, adopted.Socket, adopted.Listener));
        }
    }

    private void Scan()
    {
        for (var i = _waiting.Count - 1; i >= 0; i--)
        {
            if (i < _waiting.Count && _waiting[i].Deadline <= Now)
            {
                _waiting[i].OnDeadline();
            }
        }

        if (Now >= _nextIdleScan)
        {
            // Once a second: connections idle past the keep-alive timeout, or with a request still incomplete past
            // the request-headers timeout, close (Kestrel's limits, for the connections Kestrel never sees).
            _nextIdleScan = Now + 1000;
            foreach (var client in _clients.ToArray())
            {
                client.CloseIfExpired();
            }
        }

        if (_draining)
        {
            foreach (var client in _clients.ToArray())
            {
                client.CloseIfIdle();
            }

            foreach (var idle in _idle.Values)
            {
                while (idle.TryPop(out var connection))
                {
                    connection.Close();
                }
            }
        }
    }

    [LoggerMessage(LogLevel.Error, "A fast-lane connection failed in the gateway; it was closed.")]
    private static partial void LogConnectionFailed(ILogger logger, Exception exception);
}
