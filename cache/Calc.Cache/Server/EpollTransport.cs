using System.Net;
using System.Net.Sockets;
using Calc.Epoll;
using Microsoft.AspNetCore.Connections;

namespace Calc.Cache.Server;

/// <summary>
/// A Kestrel transport (Linux x64) that serves connections from a few epoll event-loop threads, as redis-server does:
/// level-triggered <c>epoll_wait</c>, one <c>recv</c> per readable event into the connection's own buffer, every
/// complete command run right there on the loop thread, and the replies sent with a non-blocking <c>send</c> before
/// the loop moves on (see <see cref="EpollConnection"/>); connections are packed onto as few loops as their load
/// needs (<see cref="EpollLoopGroup"/>). Kestrel's socket transport hands every socket completion
/// from its epoll thread to the thread pool and goes through pipes and async continuations per request; at one
/// request per round trip (redis-benchmark -P 1) that costs more than the command itself. Kestrel still owns the
/// listeners, calls the connection handler, and drives the graceful shutdown.
/// </summary>
internal sealed class EpollTransportFactory(CacheServerOptions options) : IConnectionListenerFactory, IConnectionListenerFactorySelector, IDisposable
{
    private readonly Lazy<EpollLoopGroup> _loops = new(() => new EpollLoopGroup(options.EffectiveIoThreads, options.BusyPollMicroseconds, options.LoopBalancing));

    /// <summary>Hands the connections of loop <paramref name="from"/> to loop <paramref name="to"/> (what load balancing does, on demand).</summary>
    public void MoveConnections(int from, int to) => _loops.Value.Loops[from].MoveAllTo(_loops.Value.Loops[to]);

    /// <summary>The event loops' stats (INFO threads); empty until the first listener is bound.</summary>
    public IReadOnlyList<IoThreadStats> Stats => _loops.IsValueCreated ? _loops.Value.Stats : [];

    /// <summary>True where the epoll transport can run (Linux on x64: the packed <c>epoll_event</c> layout).</summary>
    public static bool IsSupported => EpollInstance.IsSupported;

    public bool CanBind(EndPoint endpoint) => endpoint is IPEndPoint;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        var socket = ListenSocket.Bind((IPEndPoint)endpoint, reuseAddress: false);
        return ValueTask.FromResult<IConnectionListener>(new EpollListener(socket, _loops.Value, options.MaxInputBytes));
    }

    /// <summary>Stops the event loops (after Kestrel has closed the connections; any left are closed with them).</summary>
    public void Dispose()
    {
        if (_loops.IsValueCreated)
        {
            _loops.Value.Stop();
        }
    }
}

/// <summary>Accepts with an ordinary async accept and hands each connection to the event loop the group picks.</summary>
internal sealed class EpollListener(Socket socket, EpollLoopGroup loops, long maxReadBufferSize) : IConnectionListener
{
    public EndPoint EndPoint { get; } = socket.LocalEndPoint!;

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        var accepted = await ListenSocket.AcceptAsync(socket, cancellationToken);
        return accepted is null ? null : new EpollConnection(accepted, loops.PickForNewConnection(), maxReadBufferSize);
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
