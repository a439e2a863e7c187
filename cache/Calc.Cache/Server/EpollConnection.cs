using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Calc.Epoll;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace Calc.Cache.Server;

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
    private const int WakeRequest = 8;
    private const int PushRequest = 16;
    private const uint ReadEvents = Native.EpollIn | Native.EpollRdHup;
    private static readonly TimeSpan DefaultOutputTimeout = TimeSpan.FromSeconds(30);
    private static long s_lastId;

    private readonly Socket _socket;
    private readonly int _fd;
    private volatile EpollLoop _loop; // written by the owning loop only, when it hands the connection over
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
    private bool _moving;
    private bool _blocked; // a blocking command waits: no commands run and only hang-ups are watched until WakeRequest
    private long _lastOutputProgress;
    private long _windowWork;
    private long _workWindow = -1;

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

    public void WakeBlocked() => Post(WakeRequest);

    public void RequestPush() => Post(PushRequest);

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

    /// <summary>
    /// Thread of <paramref name="loop"/>: takes the requests other threads posted, or the connection another loop handed
    /// over. A post that reached a loop which no longer owns the connection is passed on to the owner.
    /// </summary>
    public void OnPosted(EpollLoop loop)
    {
        if (!ReferenceEquals(_loop, loop))
        {
            _loop.Post(this);
            return;
        }

        if (_moving)
        {
            _moving = false;
            if (_closed)
            {
                return;
            }

            loop.Adopt(this);
            loop.Control(_fd, GCHandle<EpollConnection>.ToIntPtr(_handle), Native.EpollCtlAdd, _registered);
        }

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

        if ((requests & WakeRequest) != 0 && _blocked && !_closing)
        {
            _blocked = false;
            _processor!.ResumeBlocked();
            if (!_stalled)
            {
                Watch(ReadEvents);
                Serve(); // the commands that arrived behind the blocking one
            }
        }

        if (_closing && !_stalled)
        {
            QueueSend();
        }
        else if ((requests & PushRequest) != 0 && !_stalled && _processor is not null)
        {
            // Pub/sub messages: written and sent now. While stalled they stay queued (bounded by the pubsub output
            // limit) and go out with the next batch once the socket drains (OnWritable serves again).
            _processor.WritePushes();
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
        else if (_blocked)
        {
            if ((events & (Native.EpollErr | Native.EpollHup | Native.EpollRdHup)) != 0)
            {
                Close(null); // the client hung up while blocked (as Redis, which frees it at once)
            }
        }
        else if ((events & (Native.EpollIn | Native.EpollErr | Native.EpollHup | Native.EpollRdHup)) != 0)
        {
            OnReadable();
        }
    }

    private void OnReadable()
    {
        if (_inputEnd == _input.Length && !MakeInputRoom())
        {
            Close(null); // cannot happen within the parser's limits, which are below the buffer's bound
            return;
        }

        var received = Native.Receive(_fd, _input.AsSpan(_inputEnd));
        if (received > 0)
        {
            _inputEnd += (int)received;
            // The loop's measure of this connection's share of its work, per load window: a count from an earlier
            // window is dropped here, so no loop has to walk its connections to reset them.
            var window = _loop.Window;
            if (_workWindow != window)
            {
                _workWindow = window;
                _windowWork = 0;
            }

            _windowWork += received + 64;
            Serve();
            return;
        }

        if (received == -1)
        {
            return; // nothing there yet
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

            if (status == BatchStatus.Blocked)
            {
                _blocked = true;
                Watch(Native.EpollRdHup); // keep what follows unread, but notice a hang-up
                break;
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

        if (_blocked)
        {
            Watch(Native.EpollRdHup);
            return;
        }

        Serve(); // what arrived before the socket filled up
        if (!_closed && !_stalled && !_blocked)
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

    /// <summary>Loop thread: the work this connection brought in load window <paramref name="window"/> of its loop.</summary>
    public long WorkIn(long window) => _workWindow == window ? _windowWork : 0;

    /// <summary>
    /// Loop thread, between rounds of events: hands the connection to <paramref name="target"/> unless it is in the
    /// middle of something (replies waiting, closing). Its unparsed input goes with it; the socket is watched by the
    /// target's epoll from when the target takes it (level-triggered, so data that arrived in between is not missed).
    /// </summary>
    public bool TryMoveTo(EpollLoop target)
    {
        if (!_started || _closed || _closing || _stalled || _blocked || _sendQueued || _output.Length > 0 || ReferenceEquals(target, _loop))
        {
            return false;
        }

        _loop.Control(_fd, 0, Native.EpollCtlDel, 0);
        _loop.Untrack(this);
        _moving = true;
        _loop = target; // last: a post that finds the new owner must find the rest done (volatile write)
        target.Post(this);
        return true;
    }

    /// <summary>Thread of a stopping <paramref name="loop"/>: closes a connection left in its post queue that it owns.</summary>
    public void CloseIfOwnedBy(EpollLoop loop)
    {
        if (ReferenceEquals(_loop, loop))
        {
            _moving = false;
            Close(null);
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
        if (_blocked)
        {
            _blocked = false;
            _processor?.CancelBlocked();
        }

        if (_stalled)
        {
            _stalled = false;
            _loop.RemoveStalled(this);
        }

        if (_started)
        {
            _loop.Control(_fd, 0, Native.EpollCtlDel, 0); // fails harmlessly for a connection in transit
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
