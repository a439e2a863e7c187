using System.Net;
using Calc.Core.Outbound;
using Calc.Testing;

namespace Calc.Core.Tests.Outbound;

/// <summary>
/// The connect-time check with real HttpClient calls to real listeners on loopback: Linux answers every address of
/// 127.0.0.0/8, so one listener can be on an allowed address (127.0.0.1) and another on a refused one (127.0.0.2).
/// </summary>
public sealed class OutboundConnectorTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static OutboundAddressPolicy Policy(params string[] allowed) => OutboundAddressPolicy.FromConfiguration(allowed, "Callbacks:AllowedNetworks");

    private static HttpClient Client(OutboundAddressPolicy policy) => new(OutboundConnector.CreateHandler(policy));

    [Fact]
    public async Task A_host_name_that_resolves_to_loopback_is_refused_at_connect_time_and_the_listener_gets_nothing()
    {
        await using var receiver = new HttpReceiver();
        await receiver.StartAsync();
        using var client = Client(Policy());

        var exception = await Should.ThrowAsync<HttpRequestException>(() => client.GetAsync($"http://localhost:{receiver.Port}/", Token));

        var refused = OutboundAddressRefusedException.In(exception).ShouldNotBeNull();
        IPAddress.IsLoopback(refused.Address).ShouldBeTrue();
        refused.Message.ShouldStartWith($"localhost resolves to {refused.Address}: address {refused.Address} is not allowed: loopback");
        receiver.Received.ShouldBeEmpty();
    }

    [Theory]
    [InlineData("http://127.0.0.1:{0}/", "127.0.0.1")]
    [InlineData("http://[::1]:{0}/", "::1")]
    [InlineData("http://[::ffff:127.0.0.1]:{0}/", "::ffff:127.0.0.1")]
    [InlineData("http://169.254.169.254:{0}/latest/meta-data", "169.254.169.254")]
    [InlineData("http://[fe80::1%251]:{0}/", "fe80::1%251")]
    [InlineData("http://0.0.0.0:{0}/", "0.0.0.0")]
    public async Task A_literal_address_in_a_refused_range_is_refused_before_any_connection(string template, string address)
    {
        await using var receiver = new HttpReceiver();
        await receiver.StartAsync();
        using var client = Client(Policy());

        var url = string.Format(System.Globalization.CultureInfo.InvariantCulture, template, receiver.Port);
        var exception = await Should.ThrowAsync<HttpRequestException>(() => client.GetAsync(url, Token));

        OutboundAddressRefusedException.In(exception).ShouldNotBeNull().Message.ShouldStartWith($"address {address} is not allowed: ");
        receiver.Received.ShouldBeEmpty();
    }

    [Fact]
    public async Task An_allowed_network_opens_loopback_for_a_literal_address_and_for_a_name_that_resolves_to_it()
    {
        await using var receiver = new HttpReceiver();
        await receiver.StartAsync();
        using var client = Client(Policy("127.0.0.0/8"));

        using var literal = await client.GetAsync(receiver.Url("/literal"), Token);
        using var named = await client.GetAsync($"http://localhost:{receiver.Port}/named", Token);

        literal.StatusCode.ShouldBe(HttpStatusCode.OK);
        named.StatusCode.ShouldBe(HttpStatusCode.OK);
        receiver.Received.Select(r => r.Path).ShouldBe(["/literal", "/named"]);
    }

    [Fact]
    public async Task A_redirect_from_an_allowed_receiver_to_a_refused_address_is_not_followed()
    {
        await using var refused = new HttpReceiver("127.0.0.2");
        await refused.StartAsync();
        await using var allowed = new HttpReceiver { Answer = _ => (307, ""), Location = _ => refused.Url("/inside") };
        await allowed.StartAsync();
        using var client = Client(Policy("127.0.0.1/32"));

        using var response = await client.PostAsync(allowed.Url("/hook"), new StringContent("{}"), Token);

        response.StatusCode.ShouldBe(HttpStatusCode.TemporaryRedirect);
        allowed.Received.Count.ShouldBe(1);
        refused.Received.ShouldBeEmpty();
    }

    [Fact]
    public async Task Every_connection_is_checked_so_even_a_handler_that_follows_redirects_cannot_reach_a_refused_address()
    {
        await using var refused = new HttpReceiver("127.0.0.2");
        await refused.StartAsync();
        await using var allowed = new HttpReceiver { Answer = _ => (302, ""), Location = _ => refused.Url("/inside") };
        await allowed.StartAsync();
        var policy = Policy("127.0.0.1/32");
        using var following = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = true,
            UseProxy = false,
            ConnectCallback = (context, cancellationToken) => OutboundConnector.ConnectAsync(policy, context.DnsEndPoint, cancellationToken),
        });

        var exception = await Should.ThrowAsync<HttpRequestException>(() => following.GetAsync(allowed.Url("/start"), Token));

        OutboundAddressRefusedException.In(exception).ShouldNotBeNull().Message.ShouldStartWith("address 127.0.0.2 is not allowed: loopback");
        allowed.Received.Count.ShouldBe(1);
        refused.Received.ShouldBeEmpty();
    }

    [Fact]
    public async Task A_listener_on_the_second_loopback_address_is_reachable_when_its_network_is_allowed()
    {
        // The redirect tests rely on 127.0.0.2 answering: without this, their "received nothing" could pass for a bad reason.
        await using var second = new HttpReceiver("127.0.0.2");
        await second.StartAsync();
        using var client = Client(Policy("127.0.0.2/32"));

        using var response = await client.GetAsync(second.Url("/reachable"), Token);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        second.Received.Single().Path.ShouldBe("/reachable");
    }
}
