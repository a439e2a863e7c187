using Calc.Callbacks;

namespace Calc.Core.Tests.Callbacks;

public sealed class CallbackUrlsTests
{
    private static CallbackOptions AllowList(params string[] hosts)
    {
        var options = new CallbackOptions();
        foreach (var host in hosts)
        {
            options.AllowedHosts.Add(host);
        }

        return options;
    }

    [Theory]
    [InlineData("http://127.0.0.1:5099/hook")]
    [InlineData("https://receiver.example.com/a?b=c")]
    [InlineData("http://[::1]:8080/x")]
    public void Any_absolute_http_or_https_url_is_accepted_without_an_allow_list(string url) =>
        CallbackUrls.Check(url, new CallbackOptions()).ShouldBeNull();

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
}
