using Calc.Testing;

namespace Calc.Cli.Tests;

/// <summary>
/// A cache, a gateway and one Calculations instance (SQLite) as real processes, wired through discovery as in
/// production. One slot and no reserved ones, so that a test can fill it and see the CLI report a 503.
/// </summary>
public sealed class GatewayCluster : IAsyncLifetime
{
    private const string InternalKey = "cli-test-key";
    private readonly CacheServerProcess _cache = new();
    private readonly TempDirectory _data = new("calc-cli-test-");
    private ServiceProcess? _gateway;
    private ServiceProcess? _calculations;

    public Uri Gateway => _gateway!.BaseAddress;

    public const string InstanceId = "cli-test-calculations";

    public async ValueTask InitializeAsync()
    {
        await _cache.InitializeAsync();
        _gateway = await ServiceProcess.StartAsync("gateway/Calc.Gateway", new Dictionary<string, string?>
        {
            ["Cache__Endpoint"] = _cache.Endpoint,
            ["Internal__Key"] = InternalKey,
            ["RateLimiting__PermitLimit"] = "0",
        });
        _calculations = await ServiceProcess.StartAsync("services/Calc.Calculations", new Dictionary<string, string?>
        {
            ["Database__Provider"] = "sqlite",
            ["Database__ConnectionString"] = $"Data Source={_data.Combine("calculations.db")}",
            ["Service__InstanceId"] = InstanceId,
            ["Gateway__Url"] = _gateway.BaseAddress.ToString(),
            ["Gateway__HeartbeatSeconds"] = "0.5",
            ["Internal__Key"] = InternalKey,
            ["Capacity__Slots"] = "1",
            ["Capacity__ReservedHigh"] = "0",
            ["Capacity__RetryAfterSeconds"] = "2",
            ["Calculations__MaxFactorialN"] = "5000000",
            // Managed math, so that a big factorial keeps the slot busy long enough to see a 503.
            ["CALC_NUMERICS_NO_GMP"] = "1",
        });
        await WaitUntilRegisteredAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_calculations is not null)
        {
            await _calculations.DisposeAsync();
        }

        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }

        await _cache.DisposeAsync();
        _data.Dispose();
    }

    /// <summary>Waits until the instance processes nothing (a cancelled calculation frees its slot a moment after the answer).</summary>
    public async Task WaitUntilIdleAsync()
    {
        using var http = _calculations!.CreateClient();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (System.Text.Json.Nodes.JsonNode.Parse(await http.GetStringAsync(new Uri("/status", UriKind.Relative)))!["capacity"]!["processing"]!.GetValue<int>() > 0)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The calculations instance did not become idle:\n{_calculations.Output}");
            }

            await Task.Delay(100);
        }
    }

    private async Task WaitUntilRegisteredAsync()
    {
        using var http = _gateway!.CreateClient();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!(await http.GetStringAsync(new Uri("/status", UriKind.Relative))).Contains(InstanceId, StringComparison.Ordinal))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The calculations instance did not register with the gateway:\n{_calculations!.Output}\n{_gateway.Output}");
            }

            await Task.Delay(100);
        }
    }
}
