using Calc.Testing;
using Microsoft.Playwright;

namespace Calc.Dashboard.Tests;

/// <summary>
/// The system the dashboard runs against, started once for the collection: Calc.Cache, the gateway, two Calculations
/// instances on one SQLite file and a Jobs instance, as real processes on loopback; and one headless chromium.
/// Each Calculations instance has a single slot (none reserved), so two slow calculations fill the cluster.
/// </summary>
public sealed class DashboardSystem : IAsyncLifetime
{
    /// <summary>Debian's chromium (<c>apt-get install chromium</c>); Playwright's own browser download is never used.</summary>
    public const string ChromiumPath = "/usr/bin/chromium";

    public static readonly string[] CalculationInstances = ["calc-1", "calc-2"];

    public const string JobsInstance = "jobs-1";

    /// <summary>Retry-After the Calculations instances give at capacity.</summary>
    public const int RetryAfterSeconds = 3;

    private readonly CacheServerProcess _cache = new();
    private IPlaywright? _playwright;

    public GatewayCluster Cluster { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public Uri Gateway => Cluster.Gateway.BaseAddress;

    public Uri DashboardUrl => new(Gateway, "/dashboard/");

    public async ValueTask InitializeAsync()
    {
        // Fail, not skip: without the browser these tests prove nothing, and a skipped test would hide that.
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException(
                $"The dashboard tests need Debian's chromium at {ChromiumPath}: install it with 'apt-get install -y chromium' " +
                "(./build.sh test does so when run as root). Playwright's own browser download is not used.");
        }

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });

        await _cache.InitializeAsync();
        Cluster = new GatewayCluster(_cache.Endpoint);
        await Cluster.StartGatewayAsync();
        await Task.WhenAll(
            Task.WhenAll(CalculationInstances.Select(id => StartCalculationsAsync(id))),
            Cluster.StartJobsAsync(JobsInstance));
        await Cluster.WaitForInstancesAsync("calculations", CalculationInstances, cancellationToken: TestContext.Current.CancellationToken);
        await Cluster.WaitForInstancesAsync("jobs", [JobsInstance], cancellationToken: TestContext.Current.CancellationToken);
    }

    /// <summary>Starts one more Calculations instance with the collection's settings.</summary>
    public Task<ServiceProcess> StartCalculationsAsync(string instanceId) => Cluster.StartCalculationsAsync(
        instanceId,
        ("Capacity:Slots", "1"),
        ("Capacity:ReservedHigh", "0"),
        ("Capacity:RetryAfterSeconds", RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        ("Calculations:MaxFactorialN", "5000000"),
        // The managed big-number engine checks for cancellation between multiplications: slow work stops at once.
        ("CALC_NUMERICS_NO_GMP", "1"));

    /// <summary>A fresh browser context (no shared cookies or cache) with the dashboard open (of the first gateway by default).</summary>
    public async Task<IPage> OpenDashboardAsync(Uri? dashboard = null)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 1000 } });
        context.SetDefaultTimeout(30_000);
        var page = await context.NewPageAsync();
        await page.GotoAsync((dashboard ?? DashboardUrl).ToString());
        return page;
    }

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }

        await _cache.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
/// <summary>Every dashboard test class shares one system and one browser.</summary>
public sealed class DashboardGroup : ICollectionFixture<DashboardSystem>
{
    public const string Name = "Dashboard";
}
