using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;

namespace Calc.Core.Outbound;

/// <summary>
/// The HTTP handler for calls made on a client's behalf: its <see cref="SocketsHttpHandler.ConnectCallback"/>
/// resolves the host, passes every address through the <see cref="OutboundAddressPolicy"/> and dials only allowed
/// ones. The check is on the address actually dialled, for every new connection, so neither a host name that resolves
/// to an internal address (nor one that changes its answer between submit and connect), nor any later hop can get
/// past it. No proxy (it would be the address dialled, not the target), and no redirects.
/// </summary>
public static class OutboundConnector
{
    /// <summary>
    /// Makes <paramref name="builder"/>'s primary handler one built by <see cref="CreateHandler"/> with the policy
    /// <paramref name="policy"/> returns.
    /// </summary>
    /// <param name="builder">A named HTTP client.</param>
    /// <param name="policy">The policy, from the client's options.</param>
    public static IHttpClientBuilder UseOutboundAddressPolicy(this IHttpClientBuilder builder, Func<IServiceProvider, OutboundAddressPolicy> policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return builder.ConfigurePrimaryHttpMessageHandler(provider => CreateHandler(policy(provider)));
    }

    /// <summary>A handler that connects only to addresses <paramref name="policy"/> allows, and follows no redirect.</summary>
    /// <param name="policy">Which addresses may be dialled.</param>
    public static SocketsHttpHandler CreateHandler(OutboundAddressPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return new SocketsHttpHandler
        {
            // A 3xx is the receiver's answer, not an instruction to post elsewhere.
            AllowAutoRedirect = false,
            UseProxy = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            ConnectCallback = (context, cancellationToken) => ConnectAsync(policy, context.DnsEndPoint, cancellationToken),
        };
    }

    /// <summary>
    /// Resolves <paramref name="endpoint"/>, drops every address <paramref name="policy"/> refuses and connects to the
    /// first allowed one that answers. Throws <see cref="OutboundAddressRefusedException"/> when none is allowed.
    /// </summary>
    /// <param name="policy">Which addresses may be dialled.</param>
    /// <param name="endpoint">The host (name or literal address) and port.</param>
    /// <param name="cancellationToken">Cancels resolving and connecting.</param>
    public static async ValueTask<Stream> ConnectAsync(OutboundAddressPolicy policy, DnsEndPoint endpoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(endpoint);
        var host = endpoint.Host.StartsWith('[') ? endpoint.Host.Trim('[', ']') : endpoint.Host;
        var literal = IPAddress.TryParse(host, out var parsed);
        var addresses = literal ? [parsed!] : await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        OutboundAddressRefusedException? refused = null;
        Exception? failure = null;
        foreach (var address in addresses)
        {
            if (policy.Refusal(address) is { } reason)
            {
                refused ??= new OutboundAddressRefusedException(address, literal ? reason : $"{host} resolves to {address}: {reason}");
                continue;
            }

            var target = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
            var socket = new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(target, endpoint.Port), cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException exception)
            {
                socket.Dispose();
                failure = exception;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        // An allowed address that did not answer is the better report; a refusal only when nothing else was tried.
        throw failure ?? (Exception?)refused ?? new SocketException((int)SocketError.HostNotFound);
    }
}
