using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Calc.Testing;

namespace Calc.Gateway.Tests;

/// <summary>
/// Gateways and Calculations instances as real processes on loopback, sharing one PostgreSQL database and one
/// registry (its own key prefix in the cache). Instances register with the first gateway; others learn of them
/// through the cache. Short TTLs and heartbeats keep the fault tests fast.
/// </summary>
public sealed class Cluster : IAsyncDisposable
{
    public const string InternalKey = "test-internal-key";
    public const double TtlSeconds = 3;

    private readonly List<ServiceProcess> _gateways = [];
    private readonly Dictionary<string, ServiceProcess> _instances = [];
    private readonly string _connectionString;
    private readonly string _prefix = "t" + Guid.NewGuid().ToString("N")[..8];

    private Cluster(string cacheEndpoint, string connectionString)
    {
        CacheEndpoint = cacheEndpoint;
        _connectionString = connectionString;
    }

    public string CacheEndpoint { get; }

    public string KeyPrefix => _prefix;

    public ServiceProcess Gateway => _gateways[0];

    public IReadOnlyList<ServiceProcess> Gateways => _gateways;

    public ServiceProcess Instance(string id) => _instances[id];

    public static async Task<Cluster> CreateAsync(PostgresServer postgres, string cacheEndpoint) =>
        new(cacheEndpoint, await postgres.CreateDatabaseAsync());

    /// <summary>Starts a gateway on this cluster's registry; settings in <c>Section:Key</c> form override the test defaults.</summary>
    public async Task<ServiceProcess> StartGatewayAsync(params (string Key, string? Value)[] settings)
    {
        var environment = Environment(
            [
                ("Cache:Endpoint", CacheEndpoint),
                ("Internal:Key", InternalKey),
                ("Registry:KeyPrefix", _prefix),
                ("Registry:TtlSeconds", TtlSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                ("Registry:RefreshMilliseconds", "250"),
                ("Registry:EvictionSeconds", "30"),
                ("Resilience:TimeoutSeconds", "5"),
                ("Resilience:MinimumThroughput", "2"),
                ("Resilience:SamplingSeconds", "5"),
                ("Resilience:BreakSeconds", "2"),
                ("Resilience:EvictAfterOpenings", "3"),
                ("RateLimiting:PermitLimit", "0"),
                ("Logging:LogLevel:Default", "Warning"),
                ("Logging:LogLevel:Calc", "Information"),
            ], settings);
        var gateway = await ServiceProcess.StartAsync("gateway/Calc.Gateway", environment);
        _gateways.Add(gateway);
        return gateway;
    }

    /// <summary>Starts Calculations instances with the given ids (registered with the first gateway), side by side.</summary>
    public async Task StartInstancesAsync(IEnumerable<string> ids, params (string Key, string? Value)[] settings) =>
        await Task.WhenAll(ids.Select(id => StartInstanceAsync(id, settings)));

    public async Task<ServiceProcess> StartInstanceAsync(string id, params (string Key, string? Value)[] settings)
    {
        var environment = Environment(
            [
                ("Database:Provider", "postgres"),
                ("Database:ConnectionString", _connectionString),
                ("Service:InstanceId", id),
                ("Gateway:Url", Gateway.BaseAddress.ToString()),
                ("Gateway:HeartbeatSeconds", "0.5"),
                ("Internal:Key", InternalKey),
                ("Capacity:Slots", "2"),
                ("Capacity:ReservedHigh", "1"),
                ("Capacity:RetryAfterSeconds", "2"),
                ("Calculations:MaxFactorialN", "5000000"),
                ("Calculations:RecoveryIntervalSeconds", "3600"),
                ("CALC_NUMERICS_NO_GMP", "1"),
                ("Logging:LogLevel:Default", "Warning"),
            ], settings);
        var instance = await ServiceProcess.StartAsync("services/Calc.Calculations", environment);
        _instances[id] = instance;
        return instance;
    }

    /// <summary>The gateway's view of the calculations service (GET /status/calculations).</summary>
    public static async Task<JsonObject> ServiceStatusAsync(ServiceProcess gateway)
    {
        using var http = gateway.CreateClient();
        return (await http.GetFromJsonAsync<JsonObject>("/status/calculations", TestContext.Current.CancellationToken))!;
    }

    public static async Task<Dictionary<string, JsonObject>> InstancesAsync(ServiceProcess gateway) =>
        (await ServiceStatusAsync(gateway))["instances"]!.AsArray()
            .Select(i => i!.AsObject())
            .ToDictionary(i => i["instanceId"]!.GetValue<string>());

    /// <summary>Polls the gateway's view until <paramref name="condition"/> holds; fails after <paramref name="limit"/>.</summary>
    public static async Task<Dictionary<string, JsonObject>> WaitForInstancesAsync(
        ServiceProcess gateway, Func<Dictionary<string, JsonObject>, bool> condition, TimeSpan limit, string what)
    {
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            var instances = await InstancesAsync(gateway);
            if (condition(instances))
            {
                return instances;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Not within {limit}: {what}. Gateway view: {string.Join(", ", instances.Keys)}\n{gateway.Output}");
            }

            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_instances.Values.Select(i => i.DisposeAsync().AsTask()).Concat(_gateways.Select(g => g.DisposeAsync().AsTask())));
    }

    private static Dictionary<string, string?> Environment((string Key, string? Value)[] defaults, (string Key, string? Value)[] overrides)
    {
        var environment = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in defaults.Concat(overrides))
        {
            environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        return environment;
    }
}
