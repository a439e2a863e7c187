using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Calc.Testing;

/// <summary>
/// A whole Calc system as real processes on loopback, for end-to-end tests: gateways on one registry (its own key
/// prefix in the given cache), Calculations instances sharing one SQLite file, and Jobs instances on their embedded
/// defaults (SQLite, in-process queue). Instances register with the first gateway. Short TTLs and heartbeats keep
/// the tests fast; every default can be overridden per process with <c>Section:Key</c> settings.
/// </summary>
public sealed class GatewayCluster : IAsyncDisposable
{
    /// <summary>The internal key every process of the cluster shares.</summary>
    public const string InternalKey = "test-internal-key";

    private readonly List<ServiceProcess> _gateways = [];
    private readonly Dictionary<string, ServiceProcess> _instances = new(StringComparer.Ordinal);
    private readonly TempDirectory _data = new("calc-cluster-");

    /// <summary>A cluster whose registry lives in the cache at <paramref name="cacheEndpoint"/> (host:port).</summary>
    public GatewayCluster(string cacheEndpoint)
    {
        CacheEndpoint = cacheEndpoint;
    }

    public string CacheEndpoint { get; }

    /// <summary>This cluster's registry key prefix (clusters can share one cache).</summary>
    public string KeyPrefix { get; } = "t" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>The first gateway started: where instances register.</summary>
    public ServiceProcess Gateway => _gateways.Count > 0 ? _gateways[0] : throw new InvalidOperationException("Start a gateway first.");

    public IReadOnlyList<ServiceProcess> Gateways => _gateways;

    /// <summary>The SQLite file every Calculations instance of this cluster shares.</summary>
    public string CalculationsDatabase => _data.Combine("calculations.db");

    public ServiceProcess Instance(string instanceId) => _instances[instanceId];

    /// <summary>Starts a gateway on this cluster's registry.</summary>
    public async Task<ServiceProcess> StartGatewayAsync(params (string Key, string? Value)[] settings)
    {
        var gateway = await ServiceProcess.StartAsync("gateway/Calc.Gateway", Environment(
            [
                ("Cache:Endpoint", CacheEndpoint),
                ("Internal:Key", InternalKey),
                ("Registry:KeyPrefix", KeyPrefix),
                ("Registry:TtlSeconds", "3"),
                ("Registry:RefreshMilliseconds", "250"),
                ("Registry:EvictionSeconds", "30"),
                ("Resilience:TimeoutSeconds", "10"),
                ("RateLimiting:PermitLimit", "0"),
                ("Logging:LogLevel:Default", "Warning"),
                ("Logging:LogLevel:Calc", "Information"),
            ], settings));
        _gateways.Add(gateway);
        return gateway;
    }

    /// <summary>Starts a Calculations instance with a fixed id, on the cluster's shared SQLite file.</summary>
    public Task<ServiceProcess> StartCalculationsAsync(string instanceId, params (string Key, string? Value)[] settings) =>
        StartInstanceAsync("services/Calc.Calculations", instanceId,
            [
                ("Database:Provider", "sqlite"),
                ("Database:ConnectionString", $"Data Source={CalculationsDatabase}"),
            ], settings);

    /// <summary>Starts a Jobs instance (API and worker in one process) on its own SQLite file and in-process queue.</summary>
    public Task<ServiceProcess> StartJobsAsync(string instanceId, params (string Key, string? Value)[] settings) =>
        StartInstanceAsync("services/Calc.Jobs", instanceId,
            [
                ("Role", "all"),
                ("Database:Provider", "sqlite"),
                ("Database:ConnectionString", $"Data Source={_data.Combine(instanceId + "-jobs.db")}"),
                ("Queue:Provider", "inprocess"),
            ], settings);

    /// <summary>The gateway's view of <paramref name="service"/> (its GET /status/{service}).</summary>
    public static async Task<JsonObject> ServiceStatusAsync(ServiceProcess gateway, string service, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        using var http = gateway.CreateClient();
        return (await http.GetFromJsonAsync<JsonObject>(new Uri("/status/" + service, UriKind.Relative), cancellationToken))!;
    }

    /// <summary>The instances the gateway routes to for <paramref name="service"/>, by instance id, as /status shows them.</summary>
    public static async Task<Dictionary<string, JsonObject>> InstancesAsync(ServiceProcess gateway, string service, CancellationToken cancellationToken = default) =>
        (await ServiceStatusAsync(gateway, service, cancellationToken))["instances"]!.AsArray()
            .Select(i => i!.AsObject())
            .ToDictionary(i => i["instanceId"]!.GetValue<string>(), StringComparer.Ordinal);

    /// <summary>Polls the gateway's view of <paramref name="service"/> until <paramref name="condition"/> holds; fails after <paramref name="limit"/>.</summary>
    public static async Task<Dictionary<string, JsonObject>> WaitForInstancesAsync(
        ServiceProcess gateway, string service, Func<Dictionary<string, JsonObject>, bool> condition, TimeSpan limit, string what, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        ArgumentNullException.ThrowIfNull(condition);
        return await Eventually.ValueAsync(() => InstancesAsync(gateway, service, cancellationToken), condition, limit, what,
            instances => $"gateway view: {string.Join(", ", instances.Keys)}\n{gateway.Output}", TimeSpan.FromMilliseconds(100), cancellationToken);
    }

    /// <summary>Waits until the first gateway routes to exactly the given instances of <paramref name="service"/>.</summary>
    public async Task WaitForInstancesAsync(string service, IReadOnlyCollection<string> instanceIds, TimeSpan? within = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(instanceIds);
        _ = await WaitForInstancesAsync(
            Gateway,
            service,
            seen => seen.Count == instanceIds.Count && instanceIds.All(seen.ContainsKey),
            within ?? TimeSpan.FromSeconds(30),
            $"the gateway routes {service} to [{string.Join(", ", instanceIds)}]",
            cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_instances.Values.Select(i => i.DisposeAsync().AsTask()));
        await Task.WhenAll(_gateways.Select(g => g.DisposeAsync().AsTask()));
        _data.Dispose();
    }

    private async Task<ServiceProcess> StartInstanceAsync(
        string project, string instanceId, (string Key, string? Value)[] storage, (string Key, string? Value)[] settings)
    {
        var process = await ServiceProcess.StartAsync(project, Environment(
            [
                .. storage,
                ("Service:InstanceId", instanceId),
                ("Gateway:Url", Gateway.BaseAddress.ToString()),
                ("Gateway:HeartbeatSeconds", "0.5"),
                ("Internal:Key", InternalKey),
                ("Logging:LogLevel:Default", "Warning"),
            ], settings));
        _instances[instanceId] = process;
        return process;
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
