using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Calc.Epoll;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Options;

namespace Calc.Gateway.FastLane;

/// <summary>
/// The gateway's Kestrel transport on Linux x64 (<c>Performance:FastLane</c>, on by default): Kestrel keeps its
/// endpoints, limits, HTTPS and shutdown, but the connections these listeners accept are served first by the fast
/// lane's event loops (<see cref="ClientConnection"/>). A connection the fast lane cannot serve is handed to Kestrel
/// as an ordinary socket connection, with the bytes already read put back in front of the rest, and Kestrel serves it
/// from then on through the full pipeline (<see cref="Forwarding.RouteForwarding"/> and the gateway's own endpoints).
/// </summary>
internal sealed class FastLaneTransportFactory(FastLaneServices lane, IOptions<PerformanceOptions> performance, ILoggerFactory loggers)
    : IConnectionListenerFactory, IConnectionListenerFactorySelector, IDisposable
{
    private readonly SocketConnectionContextFactory _kestrelSockets =
        new(new SocketConnectionFactoryOptions(), loggers.CreateLogger<FastLaneTransportFactory>());

    private readonly Lazy<EventLoop[]> _loops = new(() =>
        lane.Loops = [.. Enumerable.Range(0, performance.Value.FastLaneLoops > 0 ? performance.Value.FastLaneLoops : Environment.ProcessorCount)
            .Select(i => new EventLoop(i, lane))]);

    private int _listeners;

    /// <summary>True where the fast lane can run (Linux on x64: the packed <c>epoll_event</c> layout).</summary>
    public static bool IsSupported => EpollInstance.IsSupported;

    public bool CanBind(EndPoint endpoint) => endpoint is IPEndPoint;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        var socket = ListenSocket.Bind((IPEndPoint)endpoint, reuseAddress: true);
        Interlocked.Increment(ref _listeners);
        return ValueTask.FromResult<IConnectionListener>(new FastLaneListener(socket, _loops.Value, _kestrelSockets, OnListenerDisposed));
    }

    public void Dispose() => _kestrelSockets.Dispose();

    private void OnListenerDisposed()
    {
        // The last listener gone (server stopping): idle connections close, busy ones after their answer.
        if (Interlocked.Decrement(ref _listeners) == 0 && _loops.IsValueCreated)
        {
            foreach (var loop in _loops.Value)
            {
                loop.Drain();
            }
        }
    }
}

/// <summary>Accepts connections for the event loops (round robin); gives Kestrel the ones handed back.</summary>
internal sealed class FastLaneListener : IConnectionListener
{
    private readonly Socket _socket;
    private readonly EventLoop[] _loops;
    private readonly SocketConnectionContextFactory _kestrelSockets;
    private readonly Action _onDisposed;
    private readonly Channel<ConnectionContext> _handedOff = Channel.CreateUnbounded<ConnectionContext>();
    private readonly CancellationTokenSource _stopping = new();
    private int _next;
    private int _disposed;

    public FastLaneListener(Socket socket, EventLoop[] loops, SocketConnectionContextFactory kestrelSockets, Action onDisposed)
    {
        _socket = socket;
        _loops = loops;
        _kestrelSockets = kestrelSockets;
        _onDisposed = onDisposed;
        EndPoint = socket.LocalEndPoint!;
        _ = AcceptLoopAsync();
    }

    public EndPoint EndPoint { get; }

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await _handedOff.Reader.ReadAsync(cancellationToken);
        }
        catch (ChannelClosedException)
        {
            return null;
        }
    }

    /// <summary>Gives Kestrel a connection the fast lane will not serve, with <paramref name="alreadyRead"/> put back first.</summary>
    public void HandOff(Socket socket, ReadOnlyMemory<byte> alreadyRead)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            socket.Dispose();
            return;
        }

        var connection = _kestrelSockets.Create(socket);
        if (!alreadyRead.IsEmpty)
        {
            connection.Transport = WithBytesPutBack(connection.Transport, alreadyRead);
        }

        if (!_handedOff.Writer.TryWrite(connection))
        {
            connection.Abort();
            _ = connection.DisposeAsync().AsTask();
        }
    }

    public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        _stopping.Cancel();
        _socket.Dispose();
        _handedOff.Writer.TryComplete();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _stopping.Cancel();
            _socket.Dispose();
            _handedOff.Writer.TryComplete();
            _onDisposed();
        }

        return ValueTask.CompletedTask;
    }

    private static DuplexPipe WithBytesPutBack(IDuplexPipe transport, ReadOnlyMemory<byte> alreadyRead)
    {
        var input = new Pipe(new PipeOptions(useSynchronizationContext: false));
        input.Writer.Write(alreadyRead.Span);
        _ = PumpAsync(transport.Input, input.Writer);
        return new DuplexPipe(input.Reader, transport.Output);

        static async Task PumpAsync(PipeReader from, PipeWriter to)
        {
            try
            {
                await to.FlushAsync();
                await from.CopyToAsync(to);
                await to.CompleteAsync();
            }
            catch (Exception exception)
            {
                await to.CompleteAsync(exception);
            }
            finally
            {
                await from.CompleteAsync();
            }
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (await ListenSocket.AcceptAsync(_socket, _stopping.Token) is { } accepted)
        {
            var loop = _loops[(int)((uint)Interlocked.Increment(ref _next) % (uint)_loops.Length)];
            loop.Adopt(accepted, this);
        }
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
