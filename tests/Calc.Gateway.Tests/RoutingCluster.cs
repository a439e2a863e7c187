using Calc.Testing;

namespace Calc.Gateway.Tests;

/// <summary>
/// Three Calculations instances behind two gateways on one registry in the cache: gateway 0 balances round-robin
/// (the instances register with it), gateway 1 by load and learns of the instances through the cache only.
/// </summary>
public sealed class RoutingCluster(PostgresServer postgres, CacheServerProcess cache) : IAsyncLifetime
{
    public static readonly string[] Ids = ["calc-1", "calc-2", "calc-3"];

    public Cluster Cluster { get; private set; } = null!;

    public ServiceProcess RoundRobin => Cluster.Gateways[0];

    public ServiceProcess LeastLoad => Cluster.Gateways[1];

    public async ValueTask InitializeAsync()
    {
        Cluster = await Cluster.CreateAsync(postgres, cache.Endpoint);
        await Cluster.StartGatewayAsync(("Balancing:Mode", "RoundRobin"));
        await Task.WhenAll(
            Cluster.StartGatewayAsync(("Balancing:Mode", "LeastLoad")),
            Cluster.StartInstancesAsync(Ids));
        foreach (var gateway in Cluster.Gateways)
        {
            await Cluster.WaitForInstancesAsync(gateway, i => Ids.All(i.ContainsKey), TimeSpan.FromSeconds(15), "all three instances registered");
        }
    }

    public async ValueTask DisposeAsync() => await Cluster.DisposeAsync();
}
