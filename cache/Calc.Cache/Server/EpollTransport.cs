using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace Calc.Cache.Server;

/// <summary>
/// A Kestrel transport (Linux x64) that serves connections from a few epoll event-loop threads, as redis-server does:
/// level-triggered <c>epoll_wait</c>, one <c>recv</c> per readable event into the connection's own buffer, every
/// complete command run right there on the loop thread, and the replies sent with a non-blocking <c>send</c> before
/// the loop moves on (see <see cref="EpollConnection"/>). Kestrel's socket transport hands every socket completion
/// from its epoll thread to the thread pool and goes through pipes and async continuations per request; at one
/// request per round trip (redis-benchmark -P 1) that costs more than the command itself. Kestrel still owns the
/// listeners, calls the connection handler, and drives the graceful shutdown.
/// </summary>
internal sealed class EpollTransportFactory(long maxReadBufferSize, int loopCount) : IConnectionListenerFactory, IConnectionListenerFactorySelector, IDisposable
{
    private readonly Lazy<EpollLoop[]> _loops = new(() => [.. Enumerable.Range(0, loopCount).Select(i => new EpollLoop(i))]);

    /// <summary>True where the epoll transport can run (Linux on x64: the packed <c>epoll_event</c> layout).</summary>
    public static bool IsSupported => OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64;

    public bool CanBind(EndPoint endpoint) => endpoint is IPEndPoint;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        var ip = (IPEndPoint)endpoint;
        var socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (ip.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            socket.Bind(ip);
            socket.Listen(512);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return ValueTask.FromResult<IConnectionListener>(new EpollListener(socket, _loops.Value, maxReadBufferSize));
    }

    /// <summary>Stops the event loops (after Kestrel has closed the connections; any left are closed with them).</summary>
    public void Dispose()
    {
        if (_loops.IsValueCreated)
        {
            foreach (var loop in _loops.Value)
            {
                loop.Stop();
            }
        }
    }
}

/// <summary>Accepts with an ordinary async accept and hands each connection to an event loop, round robin.</summary>
internal sealed class EpollListener(Socket socket, EpollLoop[] loops, long maxReadBufferSize) : IConnectionListener
{
    private int _next;

    public EndPoint EndPoint { get; } = socket.LocalEndPoint!;

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Socket accepted;
            try
            {
                accepted = await socket.AcceptAsync(cancellationToken);
            }
            catch (ObjectDisposedException)
            {
                return null;
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.OperationAborted or SocketError.Interrupted or SocketError.InvalidArgument)
            {
                return null;
            }
            catch (SocketException)
            {
                continue; // e.g. the client reset before we accepted: take the next one
            }

            var loop = loops[(int)((uint)Interlocked.Increment(ref _next) % (uint)loops.Length)];
            return new EpollConnection(accepted, loop, maxReadBufferSize);
        }
    }

    public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        socket.Dispose();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        socket.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// One event-loop thread with its epoll instance; the transport has one per io-thread, shared by its listeners. Everything
/// about a connection's socket and buffers happens on its loop's thread; other threads (Kestrel's accept and
/// shutdown, the connection handler) only post requests, which an eventfd wakes the loop for.
/// </summary>
internal sealed unsafe class EpollLoop
{
    private const int MaxEvents = 256;
    private const int StallCheckMs = 100;

    private readonly int _epoll;
    private readonly Thread _thread;
    private readonly ConcurrentQueue<EpollConnection> _posted = new();
    private readonly Lock _wakeGate = new();
    private readonly HashSet<EpollConnection> _connections = [];
    private readonly List<EpollConnection> _stalled = [];
    private readonly List<EpollConnection> _sendQueue = [];
    private readonly List<GCHandle<EpollConnection>> _released = [];
    private int _wakeFd;
    private int _wakePending;
    private volatile bool _stopping;

    public EpollLoop(int index)
    {
        _epoll = Native.EpollCreate1(Native.EpollCloexec);
        _wakeFd = Native.EventFd(0, Native.EfdNonBlock | Native.EfdCloexec);
        if (_epoll < 0 || _wakeFd < 0)
        {
            throw new SocketException(Marshal.GetLastPInvokeError());
        }

        Control(_wakeFd, 0, Native.EpollCtlAdd, Native.EpollIn); // data 0: no connection handle is ever 0
        _thread = new Thread(Run) { IsBackground = true, Name = $"Calc.Cache epoll {index}" };
        _thread.Start();
    }

    /// <summary>Queues <paramref name="connection"/> for <see cref="EpollConnection.OnPosted"/> on the loop thread; any thread.</summary>
    public void Post(EpollConnection connection)
    {
        _posted.Enqueue(connection);
        if (Interlocked.Exchange(ref _wakePending, 1) == 0)
        {
            Wake();
        }
    }

    /// <summary>Ends the loop thread: closes the connections it still has and its descriptors; waits up to 5 s.</summary>
    public void Stop()
    {
        _stopping = true;
        Wake();
        _thread.Join(TimeSpan.FromSeconds(5));
    }

    private void Wake()
    {
        // Under the gate: a post racing with the loop's exit must not write to a closed (maybe reused) descriptor.
        lock (_wakeGate)
        {
            if (_wakeFd >= 0)
            {
                ulong one = 1;
                _ = Native.Write(_wakeFd, &one, sizeof(ulong));
            }
        }
    }

    public void Control(int fd, nint data, int op, uint events)
    {
        var ev = new Native.EpollEvent { Events = events, Data = (ulong)data };
        _ = Native.EpollCtl(_epoll, op, fd, &ev);
    }

    /// <summary>Loop thread: <paramref name="connection"/> has replies to send once this round of events is handled.</summary>
    public void QueueSend(EpollConnection connection) => _sendQueue.Add(connection);

    /// <summary>Loop thread: a connection starts or ends being served here.</summary>
    public void Track(EpollConnection connection) => _connections.Add(connection);

    public void Untrack(EpollConnection connection) => _connections.Remove(connection);

    /// <summary>Loop thread: watch a connection whose replies wait for the socket, for the output timeout.</summary>
    public void AddStalled(EpollConnection connection) => _stalled.Add(connection);

    public void RemoveStalled(EpollConnection connection) => _stalled.Remove(connection);

    /// <summary>Loop thread: frees a closed connection's handle once the current batch of events has been handled.</summary>
    public void Release(GCHandle<EpollConnection> handle) => _released.Add(handle);

    private void Run()
    {
        var events = (Native.EpollEvent*)NativeMemory.Alloc(MaxEvents, (nuint)sizeof(Native.EpollEvent));
        var nextStallCheck = 0L;
        while (!_stopping)
        {
            var count = Native.EpollWait(_epoll, events, MaxEvents, _stalled.Count == 0 ? -1 : StallCheckMs);
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
                var now = Environment.TickCount64;
                nextStallCheck = now + StallCheckMs;
                for (var i = _stalled.Count - 1; i >= 0 && i < _stalled.Count; i--)
                {
                    _stalled[i].CheckOutputTimeout(now);
                }
            }

            ReleaseHandles();
        }

        foreach (var connection in _connections.ToArray())
        {
            connection.Close(null);
        }

        ReleaseHandles();
        lock (_wakeGate)
        {
            _ = Native.Close(_wakeFd);
            _wakeFd = -1;
        }

        _ = Native.Close(_epoll);
        NativeMemory.Free(events);
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
        ulong value;
        _ = Native.Read(_wakeFd, &value, sizeof(ulong));
        // Before draining, and a full fence: the queue must not be read before the flag is cleared (a plain store may
        // be delayed past the reads on x64), or a post in between would find the flag set and wake nobody.
        Interlocked.Exchange(ref _wakePending, 0);
        while (_posted.TryDequeue(out var connection))
        {
            try
            {
                connection.OnPosted();
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                connection.Close(ex);
            }
        }
    }
}

/// <summary>
/// One accepted socket, served directly on its loop thread (<see cref="IDirectConnectionFeature"/>), as redis-server
/// serves a client: <c>recv</c> into the connection's own contiguous buffer, every complete command parsed and run
/// by the <see cref="IBatchProcessor"/> with its replies written to a <see cref="ReplyBuffer"/>, then one
/// non-blocking <c>send</c>. No pipes, tasks or locks per request. Only when <c>send</c> would block does the
/// connection keep the rest, watch for <c>EPOLLOUT</c>, and stop reading and processing until the replies have
/// gone out: that bounds what a client that does not read its replies can make the server hold (the unread input
/// stays in the kernel's socket buffer and the client's), and past the output timeout without progress the
/// connection is closed.
/// </summary>
internal sealed class EpollConnection : ConnectionContext, IConnectionIdFeature, IConnectionItemsFeature, IConnectionLifetimeFeature, IDirectConnectionFeature
{
    private const int InitialInputSize = 16 * 1024;
    private const int ShrinkInputAbove = 64 * 1024;
    private const int StartRequest = 1;
    private const int CloseRequest = 2;
    private const int AbortRequest = 4;
    private const uint ReadEvents = Native.EpollIn | Native.EpollRdHup;
    private static readonly TimeSpan DefaultOutputTimeout = TimeSpan.FromSeconds(30);
    private static long s_lastId;

    private readonly Socket _socket;
    private readonly int _fd;
    private readonly EpollLoop _loop;
    private readonly long _maxInputSize;
    private readonly GCHandle<EpollConnection> _handle;
    private readonly ReplyBuffer _output = new();
    private readonly CancellationTokenSource _closedCts = new();
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IBatchProcessor? _processor;
    private int _runCalled;
    private int _requests; // posted by other threads, taken by the loop

    // Loop thread only, from here on.
    private byte[] _input = new byte[InitialInputSize];
    private int _inputStart;
    private int _inputEnd;
    private int _deferredRequests;
    private uint _registered;
    private bool _started;
    private bool _closing;
    private bool _stalled;
    private bool _closed;
    private bool _sendQueued;
    private long _lastOutputProgress;

    public EpollConnection(Socket socket, EpollLoop loop, long maxInputSize)
    {
        _socket = socket;
        _socket.Blocking = false;
        _socket.NoDelay = true;
        _fd = (int)socket.SafeHandle.DangerousGetHandle();
        _loop = loop;
        _maxInputSize = maxInputSize;
        _handle = new GCHandle<EpollConnection>(this);
        Id = Interlocked.Increment(ref s_lastId);
        ConnectionId = "E" + Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        LocalEndPoint = socket.LocalEndPoint;
        RemoteEndPoint = socket.RemoteEndPoint;
        Features = new FeatureCollection();
        Features.Set<IConnectionIdFeature>(this);
        Features.Set<IConnectionItemsFeature>(this);
        Features.Set<IConnectionLifetimeFeature>(this);
        Features.Set<IDirectConnectionFeature>(this);
        ConnectionClosed = _closedCts.Token;
    }

    public long Id { get; }

    public override string ConnectionId { get; set; }

    public override IFeatureCollection Features { get; }

    public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();

    /// <summary>Not offered: this transport runs the request loop itself (<see cref="IDirectConnectionFeature"/>).</summary>
    public override IDuplexPipe Transport
    {
        get => throw new NotSupportedException("The epoll transport serves connections through IDirectConnectionFeature, not pipes.");
        set => throw new NotSupportedException("The epoll transport serves connections through IDirectConnectionFeature, not pipes.");
    }

    public override CancellationToken ConnectionClosed { get; set; }

    public IBufferWriter<byte> Output => _output;

    public Task RunAsync(IBatchProcessor? processor)
    {
        if (Interlocked.Exchange(ref _runCalled, 1) != 0)
        {
            throw new InvalidOperationException("The connection already runs (or was disposed).");
        }

        _processor = processor;
        Post(StartRequest);
        return _done.Task;
    }

    public void RequestClose() => Post(CloseRequest);

    public override void Abort(ConnectionAbortedException abortReason) => Post(AbortRequest);

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _runCalled, 1) == 0)
        {
            // Never run, so never registered with the loop: nothing else touches the socket.
            _socket.Dispose();
            _handle.Dispose();
            CancelClosedToken();
            _done.TrySetResult();
        }

        try
        {
            await _done.Task;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Already reported to the connection handler through RunAsync.
        }

        await base.DisposeAsync();
    }

    private void Post(int request)
    {
        if (Interlocked.Or(ref _requests, request) == 0)
        {
            _loop.Post(this);
        }
    }

    /// <summary>Loop thread: takes the requests other threads posted.</summary>
    public void OnPosted()
    {
        var requests = Interlocked.Exchange(ref _requests, 0) | _deferredRequests;
        _deferredRequests = 0;
        if (_closed)
        {
            return;
        }

        if (!_started)
        {
            if ((requests & StartRequest) == 0)
            {
                _deferredRequests = requests; // aborted before the handler ran it: acted on at the start
                return;
            }

            _started = true;
            _loop.Track(this);
            _loop.Control(_fd, GCHandle<EpollConnection>.ToIntPtr(_handle), Native.EpollCtlAdd, ReadEvents);
            _registered = ReadEvents;
            _closing = _processor is null; // maxclients: only the reply already in the output goes out
        }

        if ((requests & AbortRequest) != 0)
        {
            Close(null);
            return;
        }

        if ((requests & CloseRequest) != 0)
        {
            _closing = true;
        }

        if (_closing && !_stalled)
        {
            QueueSend();
        }
    }

    /// <summary>Loop thread: the socket's ready events.</summary>
    public void OnEvents(uint events)
    {
        if (_closed)
        {
            return;
        }

        if (_stalled)
        {
            if ((events & (Native.EpollOut | Native.EpollErr | Native.EpollHup)) != 0)
            {
                OnWritable();
            }
        }
        else if ((events & (Native.EpollIn | Native.EpollErr | Native.EpollHup | Native.EpollRdHup)) != 0)
        {
            OnReadable();
        }
    }

    private unsafe void OnReadable()
    {
        if (_inputEnd == _input.Length && !MakeInputRoom())
        {
            Close(null); // cannot happen within the parser's limits, which are below the buffer's bound
            return;
        }

        nint received;
        fixed (byte* p = &_input[_inputEnd])
        {
            received = Native.Recv(_fd, p, _input.Length - _inputEnd, 0);
        }

        if (received > 0)
        {
            _inputEnd += (int)received;
            Serve();
            return;
        }

        if (received < 0 && Marshal.GetLastSystemError() is Native.EAgain or Native.EIntr)
        {
            return;
        }

        if (received == 0)
        {
            // The client closed its side: what it asked for still goes out (it may only have half-closed), then close.
            _closing = true;
            QueueSend();
            return;
        }

        Close(null); // reset or another error
    }

    /// <summary>Runs every complete command received, sending the replies as it goes; stops when the socket is full.</summary>
    private void Serve()
    {
        var processor = _processor!;
        while (true)
        {
            var input = new ReadOnlySequence<byte>(_input, _inputStart, _inputEnd - _inputStart);
            var status = processor.Process(ref input);
            _inputStart = _inputEnd - (int)input.Length;
            if (status == BatchStatus.Close)
            {
                _closing = true;
            }

            if (status != BatchStatus.SendFirst)
            {
                break;
            }

            if (!TrySend())
            {
                return; // closed, or stalled: the rest of the input waits until the replies have gone out
            }
        }

        if (_inputStart == _inputEnd)
        {
            _inputStart = _inputEnd = 0;
            if (_input.Length > ShrinkInputAbove)
            {
                _input = new byte[InitialInputSize]; // one large request must not pin its buffer for the connection's life
            }
        }

        QueueSend();
    }

    /// <summary>
    /// Replies go out once the loop has read every socket that was ready (<see cref="SendQueued"/>), as redis-server
    /// writes them before it sleeps: a client then gets its replies in bursts and answers in bursts, so each
    /// <c>epoll_wait</c> returns more sockets and both sides sleep and wake less often.
    /// </summary>
    private void QueueSend()
    {
        if (!_sendQueued && (_output.Length > 0 || _closing))
        {
            _sendQueued = true;
            _loop.QueueSend(this);
        }
    }

    /// <summary>Loop thread, after a round of events: sends what <see cref="Serve"/> wrote; closes if asked to.</summary>
    public void SendQueued()
    {
        _sendQueued = false;
        if (!_closed && !_stalled && TrySend() && _closing)
        {
            Close(null);
        }
    }

    private void OnWritable()
    {
        if (!TrySend())
        {
            return;
        }

        _stalled = false;
        _loop.RemoveStalled(this);
        if (_closing)
        {
            Close(null);
            return;
        }

        Serve(); // what arrived before the socket filled up
        if (!_closed && !_stalled)
        {
            Watch(ReadEvents);
        }
    }

    /// <summary>Sends what the output holds; true when all went out, false when it stalled (now watching EPOLLOUT) or closed.</summary>
    private unsafe bool TrySend()
    {
        while (_output.Length > 0)
        {
            nint sent;
            var pending = _output.Pending;
            fixed (byte* p = pending)
            {
                sent = Native.Send(_fd, p, pending.Length, Native.MsgNoSignal);
            }

            if (sent > 0)
            {
                _output.Consume((int)sent);
                if (_stalled)
                {
                    _lastOutputProgress = Environment.TickCount64; // progress resets the output timeout
                }

                continue;
            }

            var errno = sent < 0 ? Marshal.GetLastSystemError() : Native.EAgain;
            if (errno == Native.EIntr)
            {
                continue;
            }

            if (errno != Native.EAgain)
            {
                Close(null); // the client is gone
                return false;
            }

            if (!_stalled)
            {
                _stalled = true;
                _lastOutputProgress = Environment.TickCount64;
                _loop.AddStalled(this);
                Watch(Native.EpollOut);
            }

            return false;
        }

        return true;
    }

    /// <summary>Loop thread: closes the connection when its replies have made no progress for the output timeout.</summary>
    public void CheckOutputTimeout(long now)
    {
        var timeout = (long)(_processor?.OutputTimeout ?? DefaultOutputTimeout).TotalMilliseconds;
        if (now - _lastOutputProgress >= timeout)
        {
            Close(null);
        }
    }

    private bool MakeInputRoom()
    {
        if (_inputStart > 0)
        {
            Buffer.BlockCopy(_input, _inputStart, _input, 0, _inputEnd - _inputStart);
            _inputEnd -= _inputStart;
            _inputStart = 0;
            return true;
        }

        if (_input.Length >= _maxInputSize)
        {
            return false;
        }

        // A command larger than the buffer (a big SET value): grow, bounded by the parser's request limit.
        Array.Resize(ref _input, (int)Math.Min(Math.Min(_input.Length * 2L, _maxInputSize), Array.MaxLength));
        return true;
    }

    private void Watch(uint events)
    {
        if (events != _registered)
        {
            _loop.Control(_fd, GCHandle<EpollConnection>.ToIntPtr(_handle), Native.EpollCtlMod, events);
            _registered = events;
        }
    }

    /// <summary>Loop thread (or a never-run connection's dispose): closes the socket and ends <see cref="RunAsync"/>.</summary>
    public void Close(Exception? error)
    {
        if (_closed)
        {
            return;
        }

        _closed = true;
        if (_stalled)
        {
            _stalled = false;
            _loop.RemoveStalled(this);
        }

        if (_started)
        {
            _loop.Control(_fd, 0, Native.EpollCtlDel, 0);
            _loop.Untrack(this);
            _loop.Release(_handle);
        }

        _socket.Dispose();
        _output.Clear();
        _input = [];
        _inputStart = _inputEnd = 0;
        CancelClosedToken();
        if (error is null)
        {
            _done.TrySetResult();
        }
        else
        {
            _done.TrySetException(error);
        }
    }

    private void CancelClosedToken() =>
        ThreadPool.UnsafeQueueUserWorkItem(static cts => { try { cts.Cancel(); } catch (ObjectDisposedException) { } }, _closedCts, preferLocal: false);

    string IConnectionIdFeature.ConnectionId { get => ConnectionId; set => ConnectionId = value; }

    IDictionary<object, object?> IConnectionItemsFeature.Items { get => Items; set => Items = value; }

    CancellationToken IConnectionLifetimeFeature.ConnectionClosed { get => ConnectionClosed; set => ConnectionClosed = value; }

    void IConnectionLifetimeFeature.Abort() => Abort(new ConnectionAbortedException("The connection was aborted by the application."));
}

/// <summary>
/// The few libc calls the epoll transport needs (Linux x64). The per-request ones do not ask the marshaller for
/// SetLastError (which clears errno before and copies it after every call); callers read errno with
/// <see cref="Marshal.GetLastSystemError"/> only after a call returned -1 (which always sets it), right after the
/// call, the same way the generated SetLastError code reads it.
/// </summary>
internal static unsafe partial class Native
{
    public const int EpollCloexec = 0x80000;
    public const int EpollCtlAdd = 1;
    public const int EpollCtlDel = 2;
    public const int EpollCtlMod = 3;
    public const uint EpollIn = 0x001;
    public const uint EpollOut = 0x004;
    public const uint EpollErr = 0x008;
    public const uint EpollHup = 0x010;
    public const uint EpollRdHup = 0x2000;
    public const int MsgNoSignal = 0x4000;
    public const int EIntr = 4;
    public const int EAgain = 11;
    public const int EfdNonBlock = 0x800;
    public const int EfdCloexec = 0x80000;

    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    public struct EpollEvent
    {
        public uint Events;
        public ulong Data;
    }

    [LibraryImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
    public static partial int EpollCreate1(int flags);

    [LibraryImport("libc", EntryPoint = "epoll_ctl")]
    public static partial int EpollCtl(int epfd, int op, int fd, EpollEvent* ev);

    [LibraryImport("libc", EntryPoint = "epoll_wait")]
    public static partial int EpollWait(int epfd, EpollEvent* events, int maxEvents, int timeout);

    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    public static partial int EventFd(uint initialValue, int flags);

    [LibraryImport("libc", EntryPoint = "read")]
    public static partial nint Read(int fd, void* buffer, nint length);

    [LibraryImport("libc", EntryPoint = "write")]
    public static partial nint Write(int fd, void* buffer, nint length);

    [LibraryImport("libc", EntryPoint = "close")]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "recv")]
    public static partial nint Recv(int fd, byte* buffer, nint length, int flags);

    [LibraryImport("libc", EntryPoint = "send")]
    public static partial nint Send(int fd, byte* buffer, nint length, int flags);
}
