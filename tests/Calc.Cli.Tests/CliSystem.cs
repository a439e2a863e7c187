using Calc.Testing;

namespace Calc.Cli.Tests;

/// <summary>
/// A cache, a gateway and one Calculations instance (SQLite) as real processes, wired through discovery as in
/// production (the shared <see cref="GatewayCluster"/>). One slot and no reserved ones, so that a test can fill it and
/// see the CLI report a 503.
/// </summary>
public sealed class CliSystem : IAsyncLifetime
{
    public const string InstanceId = "cli-test-calculations";

    private readonly CacheServerProcess _cache = new();
    private GatewayCluster? _cluster;

    public Uri Gateway => _cluster!.Gateway.BaseAddress;

    private ServiceProcess Calculations => _cluster!.Instance(InstanceId);

    public async ValueTask InitializeAsync()
    {
        await _cache.InitializeAsync();
        _cluster = new GatewayCluster(_cache.Endpoint);
        await _cluster.StartGatewayAsync(("Resilience:TimeoutSeconds", "30")); // the gateway's default: a CLI call may wait on a long calculation
        await _cluster.StartCalculationsAsync(
            InstanceId,
            ("Capacity:Slots", "1"),
            ("Capacity:ReservedHigh", "0"),
            ("Capacity:RetryAfterSeconds", "2"),
            ("Calculations:MaxFactorialN", "5000000"),
            ("CALC_NUMERICS_NO_GMP", "1")); // managed math, so that a big factorial keeps the slot busy long enough to see a 503
        await _cluster.WaitForInstancesAsync("calculations", [InstanceId]);
    }

    public async ValueTask DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }

        await _cache.DisposeAsync();
    }

    /// <summary>Waits until the instance processes nothing (a cancelled calculation frees its slot a moment after the answer).</summary>
    public async Task WaitUntilIdleAsync()
    {
        using var http = Calculations.CreateClient();
        await Eventually.TrueAsync(
            async () => System.Text.Json.Nodes.JsonNode.Parse(await http.GetStringAsync(new Uri("/status", UriKind.Relative)))!["capacity"]!["processing"]!.GetValue<int>() == 0,
            TimeSpan.FromSeconds(30), "the calculations instance to become idle", () => "\n" + Calculations.Output, TimeSpan.FromMilliseconds(100));
    }
}
