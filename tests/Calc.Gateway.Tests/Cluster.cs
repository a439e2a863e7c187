using System.Globalization;
using System.Text.Json.Nodes;
using Calc.Testing;

namespace Calc.Gateway.Tests;

/// <summary>
/// The shared <see cref="GatewayCluster"/> with what the gateway's fault tests need on top: Calculations instances on
/// one PostgreSQL database (instead of a SQLite file), two slots each, and a circuit breaker that opens after a few
/// failures and half-opens after 2 s, so breaking, recovering and evicting happen within seconds.
/// </summary>
public sealed class Cluster : IAsyncDisposable
{
    public const string InternalKey = GatewayCluster.InternalKey;
    public const double TtlSeconds = 3;
    private const string Service = "calculations";

    private readonly GatewayCluster _cluster;
    private readonly string _connectionString;

    private Cluster(string cacheEndpoint, string connectionString)
    {
        _cluster = new GatewayCluster(cacheEndpoint);
        _connectionString = connectionString;
    }

    public string CacheEndpoint => _cluster.CacheEndpoint;

    public string KeyPrefix => _cluster.KeyPrefix;

    public ServiceProcess Gateway => _cluster.Gateway;

    public IReadOnlyList<ServiceProcess> Gateways => _cluster.Gateways;

    public ServiceProcess Instance(string id) => _cluster.Instance(id);

    public static async Task<Cluster> CreateAsync(PostgresServer postgres, string cacheEndpoint) =>
        new(cacheEndpoint, await postgres.CreateDatabaseAsync());

    /// <summary>Starts a gateway on this cluster's registry; settings in <c>Section:Key</c> form override the test defaults.</summary>
    public Task<ServiceProcess> StartGatewayAsync(params (string Key, string? Value)[] settings) =>
        _cluster.StartGatewayAsync(
            [
                ("Registry:TtlSeconds", TtlSeconds.ToString(CultureInfo.InvariantCulture)),
                ("Resilience:TimeoutSeconds", "5"),
                ("Resilience:MinimumThroughput", "2"),
                ("Resilience:SamplingSeconds", "5"),
                ("Resilience:BreakSeconds", "2"),
                ("Resilience:EvictAfterOpenings", "3"),
                .. settings,
            ]);

    /// <summary>Starts Calculations instances with the given ids (registered with the first gateway), side by side.</summary>
    public async Task StartInstancesAsync(IEnumerable<string> ids, params (string Key, string? Value)[] settings) =>
        await Task.WhenAll(ids.Select(id => StartInstanceAsync(id, settings)));

    public Task<ServiceProcess> StartInstanceAsync(string id, params (string Key, string? Value)[] settings) =>
        _cluster.StartCalculationsAsync(
            id,
            [
                ("Database:Provider", "postgres"),
                ("Database:ConnectionString", _connectionString),
                ("Capacity:Slots", "2"),
                ("Capacity:ReservedHigh", "1"),
                ("Capacity:RetryAfterSeconds", "2"),
                ("Calculations:MaxFactorialN", "5000000"),
                ("Calculations:RecoveryIntervalSeconds", "3600"),
                ("CALC_NUMERICS_NO_GMP", "1"),
                .. settings,
            ]);

    /// <summary>The gateway's view of the calculations service (GET /status/calculations).</summary>
    public static Task<JsonObject> ServiceStatusAsync(ServiceProcess gateway) =>
        GatewayCluster.ServiceStatusAsync(gateway, Service, TestContext.Current.CancellationToken);

    public static Task<Dictionary<string, JsonObject>> InstancesAsync(ServiceProcess gateway) =>
        GatewayCluster.InstancesAsync(gateway, Service, TestContext.Current.CancellationToken);

    /// <summary>Polls the gateway's view until <paramref name="condition"/> holds; fails after <paramref name="limit"/>.</summary>
    public static Task<Dictionary<string, JsonObject>> WaitForInstancesAsync(
        ServiceProcess gateway, Func<Dictionary<string, JsonObject>, bool> condition, TimeSpan limit, string what) =>
        GatewayCluster.WaitForInstancesAsync(gateway, Service, condition, limit, what, TestContext.Current.CancellationToken);

    public ValueTask DisposeAsync() => _cluster.DisposeAsync();
}
