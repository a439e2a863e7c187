using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
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

            return new EpollConnection(accepted, loops.PickForNewConnection(), maxReadBufferSize);
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

    /// <summary>Ends the process at once (no managed shutdown handlers).</summary>
    [LibraryImport("libc", EntryPoint = "_exit")]
    public static partial void Exit(int status);

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
