using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;

namespace Calc.Epoll;

/// <summary>The listening socket of an epoll transport: how it is bound for Kestrel, and how connections are taken from it.</summary>
internal static class ListenSocket
{
    /// <summary>Backlog of connections the kernel completes before they are accepted.</summary>
    public const int Backlog = 512;

    /// <summary>
    /// A socket listening on <paramref name="endpoint"/> (both IPv4 and IPv6 for the IPv6 any address). An address in
    /// use is reported as Kestrel's <see cref="AddressInUseException"/>, which Kestrel turns into its own message.
    /// </summary>
    public static Socket Bind(IPEndPoint endpoint, bool reuseAddress)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endpoint.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            if (reuseAddress)
            {
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            }

            socket.Bind(endpoint);
            socket.Listen(Backlog);
            return socket;
        }
        catch (SocketException exception) when (exception.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            socket.Dispose();
            throw new AddressInUseException(exception.Message, exception);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The next accepted connection, or null once the listener is closed (disposed, aborted, or
    /// <paramref name="cancellationToken"/> cancelled). A connection reset before it was accepted is skipped.
    /// </summary>
    public static async ValueTask<Socket?> AcceptAsync(Socket listener, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                return await listener.AcceptAsync(cancellationToken);
            }
            catch (Exception exception) when (exception is ObjectDisposedException or OperationCanceledException
                                                  || (exception is SocketException socketException && socketException.SocketErrorCode
                                                      is SocketError.OperationAborted or SocketError.Interrupted or SocketError.InvalidArgument))
            {
                return null;
            }
            catch (SocketException)
            {
                // e.g. the client reset before it was accepted: take the next one
            }
        }
    }
}
