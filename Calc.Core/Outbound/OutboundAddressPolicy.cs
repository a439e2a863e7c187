using System.Net;
using System.Net.Sockets;

namespace Calc.Core.Outbound;

/// <summary>
/// Which addresses an outbound call made for a client (a callback post, a provider fetch) may connect to: every
/// address except those inside the network it runs in (loopback, link-local with the cloud metadata address,
/// private, shared/CGNAT, unique-local, unspecified, multicast, broadcast and reserved), also when written as an
/// IPv4-mapped or NAT64 IPv6 address, unless a configured network opens them. The policy judges addresses, not host
/// names: <see cref="OutboundConnector"/> applies it to the address actually dialled, after name resolution.
/// </summary>
public sealed class OutboundAddressPolicy
{
    private static readonly (IPNetwork Network, string Kind)[] RefusedV4 =
    [
        (IPNetwork.Parse("0.0.0.0/8"), "unspecified (this network)"),
        (IPNetwork.Parse("10.0.0.0/8"), "private"),
        (IPNetwork.Parse("100.64.0.0/10"), "shared address space (carrier-grade NAT)"),
        (IPNetwork.Parse("127.0.0.0/8"), "loopback"),
        (IPNetwork.Parse("169.254.0.0/16"), "link-local"),
        (IPNetwork.Parse("172.16.0.0/12"), "private"),
        (IPNetwork.Parse("192.168.0.0/16"), "private"),
        (IPNetwork.Parse("224.0.0.0/4"), "multicast"),
        (IPNetwork.Parse("255.255.255.255/32"), "broadcast"),
        (IPNetwork.Parse("240.0.0.0/4"), "reserved"),
    ];

    private static readonly (IPNetwork Network, string Kind)[] RefusedV6 =
    [
        (IPNetwork.Parse("::/128"), "unspecified"),
        (IPNetwork.Parse("::1/128"), "loopback"),
        (IPNetwork.Parse("::/96"), "IPv4-compatible (deprecated)"),
        (IPNetwork.Parse("fe80::/10"), "link-local"),
        (IPNetwork.Parse("fec0::/10"), "site-local (deprecated)"),
        (IPNetwork.Parse("fc00::/7"), "unique-local"),
        (IPNetwork.Parse("ff00::/8"), "multicast"),
    ];

    // The NAT64 well-known prefix (RFC 6052): on a network with NAT64, 64:ff9b::a9fe:a9fe reaches 169.254.169.254.
    private static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");

    private readonly IPNetwork[] _allowed;

    /// <summary>A policy that opens <paramref name="allowed"/>; refusals name <paramref name="allowKey"/>.</summary>
    /// <param name="allowed">Networks opened on purpose (receivers or providers inside the operator's network).</param>
    /// <param name="allowKey">The configuration key that lists them, e.g. <c>Callbacks:AllowedNetworks</c>.</param>
    public OutboundAddressPolicy(IEnumerable<IPNetwork> allowed, string allowKey)
    {
        _allowed = [.. allowed];
        AllowKey = allowKey;
    }

    /// <summary>The configuration key that opens networks, named in every refusal.</summary>
    public string AllowKey { get; }

    /// <summary>
    /// A policy from configured CIDR entries (e.g. <c>127.0.0.0/8</c>, <c>::1/128</c>). Throws on an entry that is
    /// not one; options validation reports those first (see <see cref="TryParseNetwork"/>).
    /// </summary>
    /// <param name="networks">The configured entries.</param>
    /// <param name="allowKey">The configuration key they come from.</param>
    public static OutboundAddressPolicy FromConfiguration(IEnumerable<string> networks, string allowKey)
    {
        ArgumentNullException.ThrowIfNull(networks);
        return new OutboundAddressPolicy(
            networks.Select(n => TryParseNetwork(n, out var network)
                ? network
                : throw new FormatException($"{allowKey} holds '{n}', which is not a network in CIDR form (e.g. 10.1.0.0/16, fd00::/8).")),
            allowKey);
    }

    /// <summary>
    /// Reads one configured network in CIDR form, e.g. <c>10.1.0.0/16</c> or <c>::1/128</c>. An address with bits set
    /// past the prefix (<c>10.1.0.0/8</c>) is refused rather than widened: it more likely means a typo in the prefix.
    /// </summary>
    /// <param name="text">The entry.</param>
    /// <param name="network">The network read.</param>
    public static bool TryParseNetwork(string? text, out IPNetwork network)
    {
        network = default;
        var slash = text?.IndexOf('/', StringComparison.Ordinal) ?? -1;
        return slash > 0
            && IPNetwork.TryParse(text!.Trim(), out network)
            && IPAddress.TryParse(text.AsSpan(0, slash).Trim(), out var written)
            && written.Equals(network.BaseAddress);
    }

    /// <summary>
    /// Null when <paramref name="address"/> may be connected to; otherwise why not, in words fit for a stored
    /// <c>lastError</c>: "address 169.254.169.254 is not allowed: link-local (169.254.0.0/16) …".
    /// </summary>
    /// <param name="address">The address about to be dialled.</param>
    public string? Refusal(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var (subject, form) = Embedded(address);
        if (_allowed.Any(n => n.Contains(address) || n.Contains(subject)))
        {
            return null;
        }

        var table = subject.AddressFamily == AddressFamily.InterNetwork ? RefusedV4 : RefusedV6;
        foreach (var (network, kind) in table)
        {
            if (network.Contains(subject))
            {
                return $"address {address} is not allowed: {kind} ({network}{form}); {AllowKey} can open it";
            }
        }

        return null;
    }

    // An IPv6 address that stands for an IPv4 one is judged as that IPv4 address.
    private static (IPAddress Subject, string Form) Embedded(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            return (address.MapToIPv4(), ", as an IPv4-mapped IPv6 address");
        }

        if (Nat64.Contains(address))
        {
            return (new IPAddress(address.GetAddressBytes().AsSpan(12, 4)), ", through the NAT64 prefix 64:ff9b::/96");
        }

        return (address, "");
    }
}
