using System.Net;
using Calc.Core.Outbound;

namespace Calc.Core.Tests.Outbound;

public sealed class OutboundAddressPolicyTests
{
    private static readonly OutboundAddressPolicy Default = OutboundAddressPolicy.FromConfiguration([], "Callbacks:AllowedNetworks");

    [Theory]
    [InlineData("127.0.0.1", "loopback")]
    [InlineData("127.255.10.3", "loopback")]
    [InlineData("169.254.169.254", "link-local")]
    [InlineData("169.254.0.1", "link-local")]
    [InlineData("10.0.0.1", "private")]
    [InlineData("10.255.255.255", "private")]
    [InlineData("172.16.0.1", "private")]
    [InlineData("172.31.255.254", "private")]
    [InlineData("192.168.1.1", "private")]
    [InlineData("100.64.0.1", "carrier-grade NAT")]
    [InlineData("100.100.100.200", "carrier-grade NAT")]
    [InlineData("0.0.0.0", "unspecified")]
    [InlineData("0.1.2.3", "unspecified")]
    [InlineData("224.0.0.1", "multicast")]
    [InlineData("239.255.255.250", "multicast")]
    [InlineData("255.255.255.255", "broadcast")]
    [InlineData("240.0.0.1", "reserved")]
    [InlineData("::1", "loopback")]
    [InlineData("::", "unspecified")]
    [InlineData("fe80::1", "link-local")]
    [InlineData("fe80::1%2", "link-local")]
    [InlineData("febf:ffff::1", "link-local")]
    [InlineData("fc00::1", "unique-local")]
    [InlineData("fd12:3456:789a::1", "unique-local")]
    [InlineData("ff02::1", "multicast")]
    [InlineData("fec0::1", "site-local")]
    [InlineData("::127.0.0.1", "IPv4-compatible")]
    [InlineData("::ffff:127.0.0.1", "loopback")]
    [InlineData("::ffff:169.254.169.254", "link-local")]
    [InlineData("::ffff:10.1.2.3", "private")]
    [InlineData("::ffff:0.0.0.0", "unspecified")]
    [InlineData("64:ff9b::a9fe:a9fe", "link-local")]
    public void An_internal_address_is_refused_by_default_naming_the_address_its_kind_and_the_key_that_opens_it(string text, string kind)
    {
        var address = IPAddress.Parse(text);

        var refusal = Default.Refusal(address);

        refusal.ShouldNotBeNull();
        refusal.ShouldStartWith($"address {address} is not allowed: ");
        refusal.ShouldContain(kind);
        refusal.ShouldContain("Callbacks:AllowedNetworks");
    }

    [Fact]
    public void An_ipv4_mapped_address_is_refused_as_the_ipv4_address_it_stands_for()
    {
        Default.Refusal(IPAddress.Parse("::ffff:169.254.169.254"))!.ShouldContain("169.254.0.0/16, as an IPv4-mapped IPv6 address");
    }

    [Theory]
    [InlineData("93.184.216.34")]
    [InlineData("8.8.8.8")]
    [InlineData("172.32.0.1")]
    [InlineData("172.15.255.255")]
    [InlineData("100.128.0.1")]
    [InlineData("192.169.0.1")]
    [InlineData("169.255.0.1")]
    [InlineData("2606:4700::1111")]
    [InlineData("2001:db8::1")]
    [InlineData("::ffff:93.184.216.34")]
    [InlineData("64:ff9b::5db8:d822")]
    public void A_public_address_is_allowed(string text)
    {
        Default.Refusal(IPAddress.Parse(text)).ShouldBeNull();
    }

    [Fact]
    public void Allowed_networks_open_exactly_their_addresses_also_in_ipv4_mapped_form()
    {
        var policy = OutboundAddressPolicy.FromConfiguration(["127.0.0.0/8", "10.20.0.0/16", "fd00:1::/32"], "Callbacks:AllowedNetworks");

        policy.Refusal(IPAddress.Parse("127.0.0.1")).ShouldBeNull();
        policy.Refusal(IPAddress.Parse("127.0.0.2")).ShouldBeNull();
        policy.Refusal(IPAddress.Parse("::ffff:127.0.0.1")).ShouldBeNull();
        policy.Refusal(IPAddress.Parse("10.20.30.40")).ShouldBeNull();
        policy.Refusal(IPAddress.Parse("fd00:1:2::3")).ShouldBeNull();

        policy.Refusal(IPAddress.Parse("10.21.0.1"))!.ShouldContain("private");
        policy.Refusal(IPAddress.Parse("::1"))!.ShouldContain("loopback");
        policy.Refusal(IPAddress.Parse("fd00:2::1"))!.ShouldContain("unique-local");
        policy.Refusal(IPAddress.Parse("169.254.169.254"))!.ShouldContain("link-local");
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("localhost")]
    [InlineData("10.0.0.0/33")]
    [InlineData("10.1.0.0/8")]
    [InlineData("")]
    public void An_entry_that_is_not_a_network_in_cidr_form_is_not_read_and_the_policy_refuses_to_be_built_from_it(string entry)
    {
        OutboundAddressPolicy.TryParseNetwork(entry, out _).ShouldBeFalse();
        Should.Throw<FormatException>(() => OutboundAddressPolicy.FromConfiguration([entry], "Jobs:FetchAllowedNetworks"))
            .Message.ShouldContain("Jobs:FetchAllowedNetworks");
    }
}
