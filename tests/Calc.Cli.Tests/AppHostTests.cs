using System.Net;
using System.Text.RegularExpressions;

namespace Calc.Cli.Tests;

/// <summary>
/// <c>calc up</c> runs the Aspire app host, which runs every app under DCP (Aspire's orchestrator, from its NuGet
/// package: no Docker) next to the Aspire dashboard.
/// </summary>
public sealed partial class AppHostTests
{
    [Fact]
    public async Task The_app_host_routes_a_calculation_through_the_gateway_serves_the_Aspire_dashboard_and_leaves_nothing_running_after_SIGTERM()
    {
        await using var up = await CalcUpProcess.StartAsync();
        await up.WaitForOutputAsync("Ctrl+C stops everything", TimeSpan.FromSeconds(30));

        var calculation = await CalcCli.RunAsync(up.Gateway, "submit", "addition", "39", "12", "--watch");
        calculation.ExitCode.ShouldBe(0, calculation.ToString());
        calculation.Lines.ShouldContain("result: 51");

        // The login URL carries the dashboard's browser token; it sets the auth cookie and sends the browser on.
        var login = new Uri(AspireLine().Match(up.Output).Groups[1].Value);
        login.GetLeftPart(UriPartial.Authority).ShouldBe(up.AspireDashboard.GetLeftPart(UriPartial.Authority), up.Output);
        using (var handler = new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() })
        using (var browser = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) })
        {
            using var signIn = await browser.GetAsync(login, TestContext.Current.CancellationToken);
            signIn.StatusCode.ShouldBe(HttpStatusCode.Redirect);
            handler.CookieContainer.GetCookies(up.AspireDashboard).Count.ShouldBeGreaterThan(0, "the token is accepted");
            using var home = await browser.GetAsync(up.AspireDashboard, TestContext.Current.CancellationToken);
            home.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        // Everything the app host is responsible for: itself, DCP (detached, watching the app host), the dashboard, the apps.
        var appHost = ProcessTree.ChildrenOf(up.ProcessId, "Calc.AppHost.dll").ShouldHaveSingleItem(up.Output);
        var tree = ProcessTree.Of(appHost);
        tree.Values.ShouldContain(c => c.Contains("dcp", StringComparison.Ordinal), string.Join("\n", tree.Values));
        tree.Values.ShouldContain(c => c.Contains("Aspire.Dashboard", StringComparison.Ordinal), string.Join("\n", tree.Values));
        foreach (var pid in up.Children.Values)
        {
            tree.Keys.ShouldContain(pid, "every app runs under DCP");
        }

        up.Signal("TERM");
        (await up.WaitForExitAsync(TimeSpan.FromSeconds(90))).ShouldBe(0, up.Output);
        var left = await CalcUpProcess.WaitUntilGoneAsync(tree.Keys, TimeSpan.FromSeconds(30));
        left.ShouldBeEmpty(string.Join("\n", left.Select(p => $"{p}: {tree[p]}")) + "\n" + up.Output);
    }

    [GeneratedRegex(@"aspire: +(http://\S+)")]
    private static partial Regex AspireLine();
}
