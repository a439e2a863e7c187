using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Xunit.Sdk;
using Xunit.v3;

namespace Calc.Cli.Tests;

/// <summary>Started once for <see cref="CalcUpTests"/>: the whole system from one command.</summary>
public sealed class CalcUpCluster : IAsyncLifetime
{
    public CalcUpProcess Up { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Up = await CalcUpProcess.StartAsync();

    public async ValueTask DisposeAsync() => await Up.DisposeAsync();
}

/// <summary>
/// <c>calc up</c> (embedded profile) starts a working system: cache, gateway, two calculation instances, jobs. It runs
/// the Aspire app host, which runs every app under DCP (Aspire's orchestrator, from its NuGet package: no Docker) next
/// to the Aspire dashboard. One system for the class (each start takes 20-60 s here): the SIGTERM test stops it, so
/// <see cref="StopTestLast"/> runs that one after the others.
/// </summary>
[TestCaseOrderer(typeof(StopTestLast))]
public sealed partial class CalcUpTests(CalcUpCluster cluster) : IClassFixture<CalcUpCluster>
{
    /// <summary>The test that stops the class's system.</summary>
    internal const string StopTest = nameof(The_app_host_routes_a_calculation_through_the_gateway_serves_the_Aspire_dashboard_and_leaves_nothing_running_after_SIGTERM);

    [Fact]
    public async Task The_gateway_answers_status_with_two_calculation_instances_and_jobs_registered()
    {
        using var http = new HttpClient { BaseAddress = cluster.Up.Gateway };

        var status = JsonNode.Parse(await http.GetStringAsync(new Uri("/status", UriKind.Relative), TestContext.Current.CancellationToken))!;

        var services = status["services"]!.AsArray().ToDictionary(s => s!["service"]!.GetValue<string>(), s => s!["instances"]!.AsArray());
        services["calculations"].Select(i => i!["instanceId"]!.GetValue<string>()).Order().ShouldBe(["calculations-1", "calculations-2"]);
        services["jobs"].Select(i => i!["instanceId"]!.GetValue<string>()).ShouldBe(["jobs"]);
        cluster.Up.Output.ShouldContain($"dashboard: {cluster.Up.Gateway}dashboard/");
    }

    [Fact]
    public void Every_app_logs_through_calc_up_with_its_name_as_prefix()
    {
        var output = cluster.Up.Output;

        foreach (var name in new[] { "gateway", "calculations-1", "calculations-2", "jobs" })
        {
            output.ShouldContain($"{name.PadRight(14)} | ");
        }

        cluster.Up.Children.Keys.Order().ShouldBe(["cache", "calculations-1", "calculations-2", "gateway", "jobs"]);
    }

    [Fact]
    public async Task A_calculation_and_a_budget_job_run_through_the_started_system()
    {
        var factorial = await CalcCli.RunAsync(cluster.Up.Gateway, "submit", "factorial", "25", "--watch");
        factorial.ExitCode.ShouldBe(0, factorial.ToString());
        factorial.Lines.ShouldContain("result: 15511210043330985984000000");

        var budget = await CalcCli.RunAsync(cluster.Up.Gateway, "jobs", "budget", "3", "100.00", "--watch");
        budget.ExitCode.ShouldBe(0, budget.ToString());
        budget.Lines.ShouldContain("status: done");
        budget.Output.ShouldContain("amount=33.34");
    }

    [Fact]
    public async Task The_app_host_routes_a_calculation_through_the_gateway_serves_the_Aspire_dashboard_and_leaves_nothing_running_after_SIGTERM()
    {
        var up = cluster.Up;
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

/// <summary>
/// Runs <see cref="CalcUpTests.StopTest"/> after the other tests of the class (which need the system it stops), the
/// others in xunit's default order.
/// </summary>
public sealed class StopTestLast : ITestCaseOrderer
{
    public IReadOnlyCollection<TTestCase> OrderTestCases<TTestCase>(IReadOnlyCollection<TTestCase> testCases)
        where TTestCase : notnull, ITestCase =>
        [.. DefaultTestCaseOrderer.Instance.OrderTestCases(testCases).OrderBy(t => t.TestMethodName == CalcUpTests.StopTest)];
}

/// <summary>Stopping <c>calc up</c> leaves nothing behind: each test starts its own system.</summary>
public sealed class CalcUpShutdownTests
{
    [Fact]
    public async Task SIGINT_stops_every_app_after_the_services_deregister_and_calc_up_exits_0()
    {
        await using var up = await CalcUpProcess.StartAsync();
        var children = up.Children;
        children.Count.ShouldBe(5, up.Output);

        up.Signal("INT");
        var exitCode = await up.WaitForExitAsync(TimeSpan.FromSeconds(90));

        exitCode.ShouldBe(0, up.Output);
        (await CalcUpProcess.WaitUntilGoneAsync(children.Values, TimeSpan.FromSeconds(5))).ShouldBeEmpty(up.Output);
        foreach (var service in new[] { "calculations-1", "calculations-2", "jobs" })
        {
            up.Output.ShouldContain($"{service.PadRight(14)} | ", Case.Sensitive);
            up.Output.Split('\n').ShouldContain(l => l.StartsWith(service.PadRight(14), StringComparison.Ordinal) && l.Contains("Deregistered from the gateway", StringComparison.Ordinal), up.Output);
        }

        up.Output.ShouldContain("stopped");
    }

    [Fact]
    public async Task Killing_calc_up_hard_still_stops_every_app()
    {
        await using var up = await CalcUpProcess.StartAsync();
        var children = up.Children;
        children.Count.ShouldBe(5, up.Output);

        up.Signal("KILL");
        await up.WaitForExitAsync(TimeSpan.FromSeconds(30));

        // The watchdogs notice within a second, send SIGTERM, and SIGKILL after 10 s.
        (await CalcUpProcess.WaitUntilGoneAsync(children.Values, TimeSpan.FromSeconds(30))).ShouldBeEmpty();
    }
}
