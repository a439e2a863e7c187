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
/// level-triggered <c>epoll_wait</c>, one <c>recv</c> per readable event, the connection handler run inline on the
/// loop thread through pipes with inline schedulers, and the replies sent with a non-blocking <c>send</c> before the
/// loop thread moves on. Kestrel's socket transport hands every socket completion from its epoll thread to the thread
/// pool and re-polls each socket after every read; at one request per round trip (redis-benchmark -P 1) that hand-off
/// and the extra receive cost more than the command itself. Kestrel still owns the listeners, the connection handler,
/// connection limits and the graceful shutdown; this class only moves bytes.
/// </summary>
internal sealed class EpollTransportFactory(long maxReadBufferSize) : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
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

        return ValueTask.FromResult<IConnectionListener>(new EpollListener(socket, maxReadBufferSize));
    }
}

/// <summary>Accepts with an ordinary async accept and hands each connection to an event loop, round robin.</summary>
internal sealed class EpollListener(Socket socket, long maxReadBufferSize) : IConnectionListener
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

            var loops = EpollLoop.All;
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

/// <summary>One event-loop thread with its epoll instance; one per core, shared by every listener of the process.</summary>
internal sealed unsafe class EpollLoop
{
    private const int MaxEvents = 256;
    private static readonly Lazy<EpollLoop[]> Loops = new(() =>
        [.. Enumerable.Range(0, Environment.ProcessorCount).Select(i => new EpollLoop(i))]);

    private readonly ConcurrentDictionary<long, EpollConnection> _connections = new();
    private readonly int _epoll;

    private EpollLoop(int index)
    {
        _epoll = Native.EpollCreate1(Native.EpollCloexec);
        if (_epoll < 0)
        {
            throw new SocketException(Marshal.GetLastPInvokeError());
        }

        new Thread(Run) { IsBackground = true, Name = $"Calc.Cache epoll {index}" }.Start();
    }

    public static EpollLoop[] All => Loops.Value;

    public void Add(EpollConnection connection) => _connections[connection.Id] = connection;

    public void Remove(EpollConnection connection) => _connections.TryRemove(connection.Id, out _);

    /// <summary>Sets the events watched for a descriptor: ADD from none, DEL to none, MOD otherwise.</summary>
    public void Control(int fd, long id, uint previous, uint events)
    {
        var ev = new Native.EpollEvent { Events = events, Data = (ulong)id };
        var op = previous == 0 ? Native.EpollCtlAdd : events == 0 ? Native.EpollCtlDel : Native.EpollCtlMod;
        _ = Native.EpollCtl(_epoll, op, fd, &ev);
    }

    private void Run()
    {
        var events = (Native.EpollEvent*)NativeMemory.Alloc(MaxEvents, (nuint)sizeof(Native.EpollEvent));
        while (true)
        {
            var count = Native.EpollWait(_epoll, events, MaxEvents, -1);
            for (var i = 0; i < count; i++)
            {
                if (_connections.TryGetValue((long)events[i].Data, out var connection))
                {
                    try
                    {
                        connection.OnEvents(events[i].Events);
                    }
                    catch (Exception ex) when (ex is not OutOfMemoryException)
                    {
                        // A bug in one connection must not stop the loop that serves the others.
                        connection.Abort(new ConnectionAbortedException("Transport failure", ex));
                    }
                }
            }
        }
    }
}

/// <summary>
/// One accepted socket. The loop thread receives into the input pipe (whose flush runs the connection handler inline);
/// a send loop drains the output pipe (inline on whichever thread flushed it, normally the loop thread). The
/// descriptor is closed only after both sides are done, so no receive or send can reach a reused descriptor number.
/// </summary>
internal sealed class EpollConnection : ConnectionContext, IConnectionIdFeature, IConnectionTransportFeature, IConnectionItemsFeature, IConnectionLifetimeFeature
{
    private static long s_lastId;

    private readonly Socket _socket;
    private readonly int _fd;
    private readonly EpollLoop _loop;
    private readonly Pipe _input;
    private readonly Pipe _output;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _closedCts = new();
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _sending;
    private uint _registered;
    private bool _receiving = true;
    private bool _receivePaused;
    private bool _sendDone;
    private bool _aborted;
    private bool _disposed;
    private bool _disposedSocket;
    private TaskCompletionSource<bool>? _writable;

    public EpollConnection(Socket socket, EpollLoop loop, long maxReadBufferSize)
    {
        _socket = socket;
        _socket.Blocking = false;
        _socket.NoDelay = true;
        _fd = (int)socket.SafeHandle.DangerousGetHandle();
        _loop = loop;
        Id = Interlocked.Increment(ref s_lastId);
        ConnectionId = "E" + Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        LocalEndPoint = socket.LocalEndPoint;
        RemoteEndPoint = socket.RemoteEndPoint;
        _input = new Pipe(new PipeOptions(
            pauseWriterThreshold: maxReadBufferSize, resumeWriterThreshold: maxReadBufferSize / 2,
            readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline,
            minimumSegmentSize: 16 * 1024, useSynchronizationContext: false));
        _output = new Pipe(new PipeOptions(
            pauseWriterThreshold: 64 * 1024, resumeWriterThreshold: 32 * 1024,
            readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline,
            useSynchronizationContext: false));
        Transport = new DuplexPipe(_input.Reader, _output.Writer);
        Features = new FeatureCollection();
        Features.Set<IConnectionIdFeature>(this);
        Features.Set<IConnectionTransportFeature>(this);
        Features.Set<IConnectionItemsFeature>(this);
        Features.Set<IConnectionLifetimeFeature>(this);
        ConnectionClosed = _closedCts.Token;
        _loop.Add(this);
        _sending = SendLoopAsync();
        lock (_gate)
        {
            UpdateInterest();
        }
    }

    public long Id { get; }

    public override string ConnectionId { get; set; }

    public override IFeatureCollection Features { get; }

    public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();

    public override IDuplexPipe Transport { get; set; }

    public override CancellationToken ConnectionClosed { get; set; }

    public override void Abort(ConnectionAbortedException abortReason)
    {
        TaskCompletionSource<bool>? writable;
        lock (_gate)
        {
            if (_aborted)
            {
                return;
            }

            _aborted = true;
            writable = _writable;
            _writable = null;
            if (!_disposedSocket)
            {
                try
                {
                    _socket.Shutdown(SocketShutdown.Both); // the loop sees the hang-up and ends the receive side
                }
                catch (SocketException)
                {
                }
            }

            UpdateInterest();
        }

        _output.Reader.CancelPendingRead();
        _input.Writer.CancelPendingFlush();
        writable?.TrySetResult(false);
    }

    public override async ValueTask DisposeAsync()
    {
        bool first;
        lock (_gate)
        {
            first = !_disposed;
            _disposed = true;
        }

        if (first)
        {
            await CloseAsync();
        }

        await base.DisposeAsync();
    }

    private async Task CloseAsync()
    {
        // The handler has returned: what it wrote still goes out, then both directions are shut so the loop ends
        // the receive side even when the client is still connected (QUIT, maxclients, server shutdown).
        await _input.Reader.CompleteAsync();
        await _output.Writer.CompleteAsync();
        await _sending;
        lock (_gate)
        {
            if (!_disposedSocket)
            {
                try
                {
                    _socket.Shutdown(SocketShutdown.Both);
                }
                catch (SocketException)
                {
                }
            }

            UpdateInterest();
        }

        await _closed.Task;
        _closedCts.Dispose();
    }

    /// <summary>Called on the loop thread with the ready events of this socket.</summary>
    public void OnEvents(uint events)
    {
        if ((events & (Native.EpollOut | Native.EpollErr | Native.EpollHup)) != 0)
        {
            TaskCompletionSource<bool>? writable = null;
            lock (_gate)
            {
                if (_writable is not null)
                {
                    writable = _writable;
                    _writable = null;
                    UpdateInterest();
                }
            }

            writable?.TrySetResult(true);
        }

        if ((events & (Native.EpollIn | Native.EpollErr | Native.EpollHup | Native.EpollRdHup)) != 0)
        {
            Receive();
        }
    }

    private unsafe void Receive()
    {
        if (!_receiving || _receivePaused)
        {
            return;
        }

        var writer = _input.Writer;
        var memory = writer.GetMemory(16 * 1024);
        nint received;
        fixed (byte* p = memory.Span)
        {
            received = Native.Recv(_fd, p, memory.Length, 0);
        }

        if (received > 0)
        {
            writer.Advance((int)received);
            var flush = writer.FlushAsync(); // runs the connection handler inline
            if (flush.IsCompletedSuccessfully)
            {
                var result = flush.Result;
                if (result.IsCompleted || result.IsCanceled)
                {
                    EndReceive();
                }
            }
            else
            {
                lock (_gate)
                {
                    _receivePaused = true;
                    UpdateInterest();
                }

                _ = ResumeAfterFlushAsync(flush);
            }

            return;
        }

        if (received < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno is Native.EAgain or Native.EIntr)
            {
                return;
            }
        }

        EndReceive(); // 0: the client closed its side; <0: reset or other error
    }

    private async Task ResumeAfterFlushAsync(ValueTask<FlushResult> flush)
    {
        FlushResult result;
        try
        {
            result = await flush;
        }
        catch (Exception ex) when (ex is InvalidOperationException or OperationCanceledException)
        {
            result = new FlushResult(isCanceled: true, isCompleted: true);
        }

        if (result.IsCompleted || result.IsCanceled)
        {
            EndReceive();
            return;
        }

        lock (_gate)
        {
            _receivePaused = false;
            UpdateInterest();
        }
    }

    private void EndReceive()
    {
        lock (_gate)
        {
            if (!_receiving)
            {
                return;
            }

            _receiving = false;
            UpdateInterest();
        }

        _input.Writer.Complete();
        ThreadPool.UnsafeQueueUserWorkItem(static cts => { try { cts.Cancel(); } catch (ObjectDisposedException) { } }, _closedCts, preferLocal: false);
        TryClose();
    }

    private async Task SendLoopAsync()
    {
        var reader = _output.Reader;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync();
                if (result.IsCanceled)
                {
                    break;
                }

                var buffer = result.Buffer;
                foreach (var segment in buffer)
                {
                    var remaining = segment;
                    while (!remaining.IsEmpty)
                    {
                        var sent = Send(remaining.Span);
                        if (sent > 0)
                        {
                            remaining = remaining[(int)sent..];
                        }
                        else if (sent == 0 || !await WaitWritableAsync())
                        {
                            return;
                        }
                    }
                }

                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        finally
        {
            await reader.CompleteAsync();
            lock (_gate)
            {
                _sendDone = true;
            }

            TryClose();
        }
    }

    /// <summary>Bytes sent; -1 when the socket would block; 0 when it failed (the client is gone).</summary>
    private unsafe nint Send(ReadOnlySpan<byte> data)
    {
        nint sent;
        fixed (byte* p = data)
        {
            sent = Native.Send(_fd, p, data.Length, Native.MsgNoSignal);
        }

        if (sent >= 0)
        {
            return sent == 0 ? -1 : sent;
        }

        var errno = Marshal.GetLastPInvokeError();
        return errno is Native.EAgain or Native.EIntr ? -1 : 0;
    }

    private Task<bool> WaitWritableAsync()
    {
        lock (_gate)
        {
            if (_aborted)
            {
                return Task.FromResult(false);
            }

            _writable = new TaskCompletionSource<bool>();
            UpdateInterest();
            return _writable.Task;
        }
    }

    /// <summary>Watch for reads while receiving and not paused, for writes while a send waits; call under the gate.</summary>
    private void UpdateInterest()
    {
        if (_disposedSocket)
        {
            return;
        }

        uint wanted = 0;
        if (_receiving && !_receivePaused)
        {
            wanted |= Native.EpollIn | Native.EpollRdHup;
        }

        if (_writable is not null)
        {
            wanted |= Native.EpollOut;
        }

        if (wanted != _registered)
        {
            _loop.Control(_fd, Id, _registered, wanted);
            _registered = wanted;
        }
    }

    private void TryClose()
    {
        lock (_gate)
        {
            if (_receiving || !_sendDone || _disposedSocket)
            {
                return;
            }

            if (_registered != 0)
            {
                _loop.Control(_fd, Id, _registered, 0);
                _registered = 0;
            }

            _disposedSocket = true;
            _loop.Remove(this);
            _socket.Dispose();
        }

        _closed.TrySetResult();
    }

    string IConnectionIdFeature.ConnectionId { get => ConnectionId; set => ConnectionId = value; }

    IDuplexPipe IConnectionTransportFeature.Transport { get => Transport; set => Transport = value; }

    IDictionary<object, object?> IConnectionItemsFeature.Items { get => Items; set => Items = value; }

    CancellationToken IConnectionLifetimeFeature.ConnectionClosed { get => ConnectionClosed; set => ConnectionClosed = value; }

    void IConnectionLifetimeFeature.Abort() => Abort(new ConnectionAbortedException("The connection was aborted by the application."));

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}

/// <summary>The few libc calls the epoll transport needs (Linux x64).</summary>
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

    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    public struct EpollEvent
    {
        public uint Events;
        public ulong Data;
    }

    [LibraryImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
    public static partial int EpollCreate1(int flags);

    [LibraryImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
    public static partial int EpollCtl(int epfd, int op, int fd, EpollEvent* ev);

    [LibraryImport("libc", EntryPoint = "epoll_wait", SetLastError = true)]
    public static partial int EpollWait(int epfd, EpollEvent* events, int maxEvents, int timeout);

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    public static partial nint Recv(int fd, byte* buffer, nint length, int flags);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    public static partial nint Send(int fd, byte* buffer, nint length, int flags);
}
