using Calc.Core.Callbacks;

namespace Calc.Core.Tests.Callbacks;

public sealed class CallbackUrlsTests
{
    private static CallbackOptions AllowList(params string[] hosts)
    {
        var options = Loopback();
        foreach (var host in hosts)
        {
            options.AllowedHosts.Add(host);
        }

        return options;
    }

    private static CallbackOptions Loopback()
    {
        var options = new CallbackOptions();
        options.AllowedNetworks.Add("127.0.0.0/8");
        options.AllowedNetworks.Add("::1/128");
        return options;
    }

    [Theory]
    [InlineData("https://receiver.example.com/a?b=c")]
    [InlineData("http://93.184.216.34:8080/x")]
    [InlineData("http://[2606:4700::1111]/x")]
    [InlineData("http://10.0.0.5.example.com/x")]
    public void Any_absolute_http_or_https_url_on_a_public_host_is_accepted_without_an_allow_list(string url) =>
        CallbackUrls.Check(url, new CallbackOptions()).ShouldBeNull();

    [Theory]
    [InlineData("http://169.254.169.254/latest/meta-data", "address 169.254.169.254 is not allowed: link-local")]
    [InlineData("http://127.0.0.1:5099/hook", "address 127.0.0.1 is not allowed: loopback")]
    [InlineData("http://2130706433/hook", "address 127.0.0.1 is not allowed: loopback")]
    [InlineData("http://0x7f.1/hook", "address 127.0.0.1 is not allowed: loopback")]
    [InlineData("http://localhost:8080/hook", "address 127.0.0.1 is not allowed: loopback")]
    [InlineData("http://LocalHost./hook", "address 127.0.0.1 is not allowed: loopback")]
    [InlineData("http://hooks.localhost/hook", "address 127.0.0.1 is not allowed: loopback")]
    [InlineData("http://10.1.2.3/hook", "address 10.1.2.3 is not allowed: private")]
    [InlineData("http://172.20.0.1/hook", "address 172.20.0.1 is not allowed: private")]
    [InlineData("http://192.168.0.10/hook", "address 192.168.0.10 is not allowed: private")]
    [InlineData("http://100.100.100.200/hook", "address 100.100.100.200 is not allowed: shared address space")]
    [InlineData("http://0.0.0.0:80/hook", "address 0.0.0.0 is not allowed: unspecified")]
    [InlineData("http://224.0.0.1/hook", "address 224.0.0.1 is not allowed: multicast")]
    [InlineData("http://[::1]:8080/x", "address ::1 is not allowed: loopback")]
    [InlineData("http://[::]/x", "address :: is not allowed: unspecified")]
    [InlineData("http://[fe80::1]/x", "address fe80::1 is not allowed: link-local")]
    [InlineData("http://[fd00::1]/x", "address fd00::1 is not allowed: unique-local")]
    [InlineData("http://[ff02::1]/x", "address ff02::1 is not allowed: multicast")]
    [InlineData("http://[::ffff:127.0.0.1]/x", "address ::ffff:127.0.0.1 is not allowed: loopback")]
    [InlineData("http://[::ffff:a9fe:a9fe]/x", "address ::ffff:169.254.169.254 is not allowed: link-local")]
    public void A_url_naming_an_internal_address_is_refused_naming_callbackUrl_the_address_and_the_key_that_opens_it(string url, string refusal)
    {
        var error = CallbackUrls.Check(url, new CallbackOptions());

        error.ShouldNotBeNull();
        error.ShouldStartWith("'callbackUrl' is refused: " + refusal);
        error.ShouldContain("Callbacks:AllowedNetworks");
    }

    [Theory]
    [InlineData("http://127.0.0.1:5099/hook")]
    [InlineData("http://127.0.0.2:5099/hook")]
    [InlineData("http://localhost:5099/hook")]
    [InlineData("http://[::1]:8080/x")]
    public void Allowed_networks_open_loopback_urls(string url) =>
        CallbackUrls.Check(url, Loopback()).ShouldBeNull();

    [Fact]
    public void Allowed_networks_open_only_their_own_addresses()
    {
        var options = new CallbackOptions();
        options.AllowedNetworks.Add("10.20.0.0/16");

        CallbackUrls.Check("http://10.20.1.2/hook", options).ShouldBeNull();
        CallbackUrls.Check("http://10.21.1.2/hook", options)!.ShouldContain("address 10.21.1.2 is not allowed: private");
        CallbackUrls.Check("http://169.254.169.254/", options)!.ShouldContain("link-local");
    }

    [Theory]
    [InlineData("ftp://example.com/x")]
    [InlineData("/relative/path")]
    [InlineData("not a url")]
    [InlineData("https://user:password@example.com/x")]
    public void Other_urls_are_refused_naming_callbackUrl(string url) =>
        CallbackUrls.Check(url, new CallbackOptions())!.ShouldStartWith("'callbackUrl'");

    [Fact]
    public void A_url_longer_than_the_limit_is_refused() =>
        CallbackUrls.Check("https://example.com/" + new string('a', 2100), new CallbackOptions())!.ShouldContain("2048");

    [Theory]
    [InlineData("https://hooks.example.com/x", true)]
    [InlineData("https://a.b.example.com/x", true)]
    [InlineData("https://example.com/x", false)]
    [InlineData("https://evil-example.com/x", false)]
    [InlineData("http://127.0.0.1:9/x", true)]
    [InlineData("http://LOCALHOST/x", true)]
    [InlineData("http://10.0.0.1/x", false)]
    public void With_an_allow_list_only_its_hosts_and_wildcard_subdomains_are_accepted(string url, bool accepted)
    {
        var options = AllowList("*.example.com", "127.0.0.1", "localhost");

        var error = CallbackUrls.Check(url, options);

        (error is null).ShouldBe(accepted, error);
        if (!accepted)
        {
            error!.ShouldContain("Callbacks:AllowedHosts");
        }
    }

    [Fact]
    public void An_allowed_network_that_is_not_in_cidr_form_fails_the_options_validation_naming_the_key()
    {
        var options = new CallbackOptions();
        options.AllowedNetworks.Add("127.0.0.1");

        var results = options.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(options)).ToList();

        results.Single().ErrorMessage!.ShouldContain("Callbacks:AllowedNetworks holds '127.0.0.1'");
    }
}
