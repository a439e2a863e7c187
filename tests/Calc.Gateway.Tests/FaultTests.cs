using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Calc.Gateway.Registry;
using Calc.Testing;
using StackExchange.Redis;

namespace Calc.Gateway.Tests;

/// <summary>Faults, each on its own cluster: an instance killed under load, a slow instance, the cache restarted.</summary>
public sealed class FaultTests(PostgresServer postgres, CacheServerProcess cache)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Killed_instance_under_load_no_GET_fails_its_breaker_opens_it_leaves_the_registry_and_comes_back_after_restart()
    {
        await using var cluster = await Cluster.CreateAsync(postgres, cache.Endpoint);
        var gateway = await cluster.StartGatewayAsync();
        string[] ids = ["calc-1", "calc-2", "calc-3"];
        await cluster.StartInstancesAsync(ids);
        await Cluster.WaitForInstancesAsync(gateway, i => ids.All(i.ContainsKey), TimeSpan.FromSeconds(15), "three instances");
        using var http = gateway.CreateClient();
        var id = await Calculations.CreateDoneAsync(http);

        // Bounded load: 4 clients, at most 8 s or 2000 requests; calc-2 is killed after 1 s.
        var statuses = new ConcurrentBag<HttpStatusCode>();
        var budget = 2000;
        var clock = Stopwatch.StartNew();
        var load = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (clock.Elapsed < TimeSpan.FromSeconds(8) && Interlocked.Decrement(ref budget) >= 0)
            {
                using var response = await http.GetAsync($"/calculations/{id}", Token);
                statuses.Add(response.StatusCode);
            }
        }, Token)).ToList();
        await Task.Delay(1000, Token);
        await cluster.Instance("calc-2").KillAsync();
        var killedAt = clock.Elapsed;
        var gone = await Cluster.WaitForInstancesAsync(gateway, i => !i.ContainsKey("calc-2"), TimeSpan.FromSeconds(Cluster.TtlSeconds + 3), "calc-2 leaves the registry");
        var leftAfter = clock.Elapsed - killedAt;
        await Task.WhenAll(load);

        statuses.Count.ShouldBeGreaterThan(20);
        statuses.Where(s => s != HttpStatusCode.OK).ShouldBeEmpty($"{statuses.Count} GETs");
        await gateway.WaitForOutputAsync("Circuit of calculations/calc-2 opened");
        leftAfter.ShouldBeLessThanOrEqualTo(TimeSpan.FromSeconds(Cluster.TtlSeconds + 1));
        gone.Keys.ShouldBe(["calc-1", "calc-3"], ignoreOrder: true);

        await cluster.StartInstanceAsync("calc-2");
        var back = await Cluster.WaitForInstancesAsync(gateway, i => i.ContainsKey("calc-2"), TimeSpan.FromSeconds(10), "calc-2 back after restart");
        back["calc-2"]["circuit"]!.GetValue<string>().ShouldBe("closed");
    }

    [Fact]
    public async Task Stopped_instance_deregisters_at_once_instead_of_waiting_for_its_TTL()
    {
        await using var cluster = await Cluster.CreateAsync(postgres, cache.Endpoint);
        var gateway = await cluster.StartGatewayAsync(("Registry:TtlSeconds", "30"));
        await cluster.StartInstancesAsync(["calc-1", "calc-2"]);
        await Cluster.WaitForInstancesAsync(gateway, i => i.Count == 2, TimeSpan.FromSeconds(15), "two instances");

        var clock = Stopwatch.StartNew();
        await cluster.Instance("calc-2").StopAsync();
        await Cluster.WaitForInstancesAsync(gateway, i => !i.ContainsKey("calc-2"), TimeSpan.FromSeconds(5), "calc-2 deregistered");

        clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(10), "far below the 30 s TTL");
        await using var client = await ConnectionMultiplexer.ConnectAsync(RegistryCacheConnection.Configure(cache.Endpoint));
        (await client.GetDatabase().KeyExistsAsync($"{cluster.KeyPrefix}:instance:calculations:calc-2")).ShouldBeFalse();
    }

    [Fact]
    public async Task Slow_instance_trips_the_timeout_GETs_go_elsewhere_and_repeated_openings_evict_it()
    {
        await using var cluster = await Cluster.CreateAsync(postgres, cache.Endpoint);
        var gateway = await cluster.StartGatewayAsync(
            ("Balancing:Mode", "RoundRobin"), ("Resilience:TimeoutSeconds", "1"), ("Resilience:BreakSeconds", "0.5"),
            ("Resilience:EvictAfterOpenings", "2"));
        await cluster.StartInstancesAsync(["calc-1", "calc-2"]);
        await Cluster.WaitForInstancesAsync(gateway, i => i.Count == 2, TimeSpan.FromSeconds(15), "two instances");

        // Warm both instances up directly, so that a first request's start-up cost does not trip the short timeout.
        using var first = cluster.Instance("calc-1").CreateClient();
        using var second = cluster.Instance("calc-2").CreateClient();
        var id = await Calculations.CreateDoneAsync(first);
        (await second.GetAsync($"/calculations/{id}", Token)).Dispose();
        using var http = gateway.CreateClient();

        // An instance that accepts connections and never answers, kept registered by heartbeats from the test.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start(100);
        var announcement = new
        {
            service = "calculations",
            instanceId = "slow-1",
            baseUrl = $"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}",
            capacity = 100,
            processing = 0,
        };
        (await RpcAsync(gateway, "registry.register", announcement))["result"].ShouldNotBeNull();
        await Cluster.WaitForInstancesAsync(gateway, i => i.ContainsKey("slow-1"), TimeSpan.FromSeconds(5), "slow-1 registered");

        var slowest = TimeSpan.Zero;
        var heartbeat = await Eventually.ValueAsync(
            async () =>
            {
                var beat = await RpcAsync(gateway, "registry.heartbeat", announcement);
                if (beat["error"] is null)
                {
                    for (var i = 0; i < 3; i++)
                    {
                        var attempt = Stopwatch.StartNew();
                        using var response = await http.GetAsync($"/calculations/{id}", Token);
                        response.StatusCode.ShouldBe(HttpStatusCode.OK);
                        slowest = attempt.Elapsed > slowest ? attempt.Elapsed : slowest;
                    }
                }

                return beat;
            },
            beat => beat["error"] is not null, TimeSpan.FromSeconds(20), "slow-1's heartbeats to be refused (evicted)",
            beat => beat.ToJsonString() + "\n" + gateway.Output, TimeSpan.Zero, Token);

        heartbeat["error"]?["code"]?.GetValue<int>().ShouldBe(-32001, gateway.Output);
        slowest.ShouldBeGreaterThanOrEqualTo(TimeSpan.FromSeconds(0.9));
        await gateway.WaitForOutputAsync("to instance slow-1 failed: timeout");
        await gateway.WaitForOutputAsync("Evicted calculations/slow-1 after 2 circuit openings");
        (await Cluster.InstancesAsync(gateway)).Keys.ShouldBe(["calc-1", "calc-2"], ignoreOrder: true);
    }

    [Fact]
    public async Task Cache_restarted_routing_goes_on_on_the_last_known_registry_and_the_registry_is_rebuilt()
    {
        await using var ownCache = new CacheServerProcess();
        await ownCache.InitializeAsync();
        await using var cluster = await Cluster.CreateAsync(postgres, ownCache.Endpoint);
        var gateway = await cluster.StartGatewayAsync();
        await cluster.StartInstancesAsync(["calc-1", "calc-2"]);
        await Cluster.WaitForInstancesAsync(gateway, i => i.Count == 2, TimeSpan.FromSeconds(15), "two instances");
        using var http = gateway.CreateClient();
        var id = await Calculations.CreateDoneAsync(http);

        await ownCache.KillAsync();
        await WaitForRegistryAsync(gateway, "last_known");
        for (var i = 0; i < 10; i++)
        {
            using var response = await http.GetAsync($"/calculations/{id}", Token);
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        (await Cluster.InstancesAsync(gateway)).Count.ShouldBe(2);

        await ownCache.StartAsync();
        await WaitForRegistryAsync(gateway, "cache");
        await using var client = await ConnectionMultiplexer.ConnectAsync(RegistryCacheConnection.Configure(ownCache.Endpoint));
        var keys = await Eventually.ValueAsync(
            async () => (RedisResult[])(await client.GetDatabase().ExecuteAsync("KEYS", $"{cluster.KeyPrefix}:instance:*"))!,
            found => found.Length >= 2, TimeSpan.FromSeconds(5), "the instance entries written back to the restarted cache",
            found => string.Join(", ", found.Select(k => k.ToString())), TimeSpan.FromMilliseconds(100), Token);
        keys.Length.ShouldBe(2, "instance entries written back to the restarted cache");
        using var after = await http.GetAsync($"/calculations/{id}", Token);
        after.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    internal static async Task<JsonObject> RpcAsync(ServiceProcess gateway, string method, object parameters)
    {
        using var http = gateway.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/internal/rpc")
        {
            Content = JsonContent.Create(new { jsonrpc = "2.0", method, @params = parameters, id = 1 }),
        };
        request.Headers.Add("X-Internal-Key", Cluster.InternalKey);
        using var response = await http.SendAsync(request, Token);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return (await response.Content.ReadFromJsonAsync<JsonObject>(Token))!;
    }

    private static async Task WaitForRegistryAsync(ServiceProcess gateway, string state)
    {
        using var http = gateway.CreateClient();
        await Eventually.ValueAsync(async () => (await http.GetFromJsonAsync<JsonObject>("/status", Token))!,
            status => status["registry"]!.GetValue<string>() == state, TimeSpan.FromSeconds(10), $"registry state {state}",
            status => status.ToJsonString(), TimeSpan.FromMilliseconds(100), Token);
    }
}
