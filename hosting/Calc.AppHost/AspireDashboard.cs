using System.Globalization;
using Calc.LocalServers;
using Microsoft.Extensions.Configuration;

namespace Calc.AppHost;

/// <summary>
/// Where the Aspire dashboard listens (its UI on <c>--aspire-urls</c>, its OTLP/HTTP receiver and the app host's
/// resource service on free loopback ports), given to Aspire as configuration on its command line, so none of it
/// leaks into the apps' environment. Plain http needs <c>ASPIRE_ALLOW_UNSECURED_TRANSPORT</c>.
/// </summary>
internal sealed class AspireDashboard(Uri url)
{
    private readonly int _otlpPort = ProcessTools.FreePort();
    private readonly int _resourceServicePort = ProcessTools.FreePort();
    private string _token = "";

    public Uri Url => url;

    public Uri OtlpUrl => new(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{_otlpPort}"));

    /// <summary>The dashboard's login URL with its one-time browser token.</summary>
    public Uri LoginUrl => new(url, $"/login?t={_token}");

    public string[] ConfigurationArguments() =>
    [
        $"--ASPNETCORE_URLS={url.GetLeftPart(UriPartial.Authority)}",
        $"--ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL={OtlpUrl.GetLeftPart(UriPartial.Authority)}",
        string.Create(CultureInfo.InvariantCulture, $"--ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL=http://127.0.0.1:{_resourceServicePort}"),
        "--ASPIRE_ALLOW_UNSECURED_TRANSPORT=true",
        // The app host's own log: warnings and errors only (the apps' lines are what the console is for).
        "--Logging:LogLevel:Default=Warning",
        "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Warning",
        "--Logging:LogLevel:Microsoft.AspNetCore.DataProtection=Error",
        "--Logging:Console:FormatterName=simple",
        "--Logging:Console:FormatterOptions:SingleLine=true",
    ];

    /// <summary>Reads the browser token Aspire generated into its configuration.</summary>
    public void ReadToken(IConfiguration configuration) =>
        _token = configuration["AppHost:BrowserToken"] ?? throw new InvalidOperationException("Aspire generated no dashboard browser token (AppHost:BrowserToken).");
}
