using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Calc.Testing;

namespace Calc.Gateway.Tests;

public sealed class RoutingTests(RoutingCluster fixture) : IClassFixture<RoutingCluster>
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Seed_000_sequence_through_the_gateway_gives_51_and_the_request_id_is_forwarded()
    {
        using var http = fixture.RoundRobin.CreateClient();
        var id = await Calculations.CreateAsync(http, new { type = "addition", init = 39 });
        using (var term = await http.PutAsJsonAsync($"/calculations/{id}", new { term = 12 }, Token))
        {
            term.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        using (var finalize = await http.PutAsync($"/calculations/{id}/finalize", null, Token))
        {
            finalize.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        }

        var done = await Calculations.WaitForStatusAsync(http, id, "done");
        done["result"]!.GetValue<int>().ShouldBe(51);

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/calculations/{id}");
        request.Headers.Add("X-Request-Id", "gateway-test-42");
        using var response = await http.SendAsync(request, Token);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Headers.GetValues("X-Request-Id").ShouldBe(["gateway-test-42"]);
        response.Headers.GetValues("X-Calc-Load").Single().ShouldMatch(@"^\d+/2$");
    }

    [Fact]
    public async Task Bodies_pass_through_whole_with_their_length_and_HEAD_gets_the_instance_status_without_a_body()
    {
        using var direct = fixture.Cluster.Instance("calc-1").CreateClient();
        using var http = fixture.RoundRobin.CreateClient();
        var id = await Calculations.CreateDoneAsync(http);

        using var expected = await direct.GetAsync($"/calculations/{id}", Token);
        var expectedBody = await expected.Content.ReadAsByteArrayAsync(Token);
        for (var i = 0; i < 3; i++) // every instance once
        {
            using var response = await http.GetAsync($"/calculations/{id}", Token);
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
            var body = await response.Content.ReadAsByteArrayAsync(Token);
            body.ShouldBe(expectedBody);
            response.Content.Headers.ContentLength.ShouldBe(expectedBody.Length);
        }

        // A HEAD answer declares a length but has no body: passed on as it is, not taken for a response cut short.
        using var headDirect = await direct.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/calculations/{id}"), Token);
        using var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/calculations/{id}"), Token);
        head.StatusCode.ShouldBe(headDirect.StatusCode);
        (await head.Content.ReadAsByteArrayAsync(Token)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Round_robin_spreads_requests_evenly()
    {
        using var http = fixture.RoundRobin.CreateClient();
        var id = await Calculations.CreateDoneAsync(http);
        var before = await Cluster.InstancesAsync(fixture.RoundRobin);

        for (var i = 0; i < 30; i++)
        {
            using var response = await http.GetAsync($"/calculations/{id}", Token);
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        var after = await Cluster.InstancesAsync(fixture.RoundRobin);
        foreach (var instance in RoutingCluster.Ids)
        {
            (Forwarded(after[instance]) - Forwarded(before[instance])).ShouldBe(10, $"requests sent to {instance}");
        }
    }

    [Fact]
    public async Task Load_aware_routing_avoids_a_saturated_instance()
    {
        using var direct = fixture.Cluster.Instance("calc-1").CreateClient();
        using var http = fixture.LeastLoad.CreateClient();
        var id = await Calculations.CreateDoneAsync(http);
        // Both of calc-1's slots taken (load 2/2): no other instance's load can tie with it, not even one still
        // reporting a slot that a previous test's work has just given back.
        var slow = await Calculations.StartSlowAsync(direct);
        var slowHigh = await Calculations.StartSlowAsync(direct, "high");
        try
        {
            // The others idle too: a slot a previous test cancelled may still be counted for a moment.
            await Cluster.WaitForInstancesAsync(fixture.LeastLoad,
                i => i["calc-1"]["processing"]!.GetValue<int>() == 2
                     && i["calc-2"]["processing"]!.GetValue<int>() == 0 && i["calc-3"]["processing"]!.GetValue<int>() == 0,
                TimeSpan.FromSeconds(10), "calc-1's heartbeat reports its load, the others' none");
            var before = await Cluster.InstancesAsync(fixture.LeastLoad);

            for (var i = 0; i < 20; i++)
            {
                using var response = await http.GetAsync($"/calculations/{id}", Token);
                response.StatusCode.ShouldBe(HttpStatusCode.OK);
            }

            var after = await Cluster.InstancesAsync(fixture.LeastLoad);
            (Forwarded(after["calc-1"]) - Forwarded(before["calc-1"])).ShouldBe(0, "the saturated instance got requests");
            (Forwarded(after["calc-2"]) + Forwarded(after["calc-3"]) - Forwarded(before["calc-2"]) - Forwarded(before["calc-3"])).ShouldBe(20);
            (await Calculations.WaitForStatusAsync(direct, slow, "processing"))["status"].ShouldNotBeNull();
        }
        finally
        {
            await Calculations.CancelAsync(direct, slow);
            await Calculations.CancelAsync(direct, slowHigh);
        }
    }

    [Fact]
    public async Task With_every_instance_full_finalize_returns_503_with_Retry_After()
    {
        var slow = new List<(HttpClient Client, string Id)>();
        try
        {
            foreach (var instance in RoutingCluster.Ids)
            {
                var client = fixture.Cluster.Instance(instance).CreateClient();
                slow.Add((client, await Calculations.StartSlowAsync(client)));
            }

            using var http = fixture.RoundRobin.CreateClient();
            var id = await Calculations.CreateAsync(http, new { type = "addition", init = 1 });
            using var finalize = await http.PutAsync($"/calculations/{id}/finalize", null, Token);

            finalize.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
            finalize.Headers.RetryAfter.ShouldNotBeNull();
            finalize.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        }
        finally
        {
            foreach (var (client, id) in slow)
            {
                await Calculations.CancelAsync(client, id);
                client.Dispose();
            }
        }
    }

    [Fact]
    public async Task Internal_rpc_without_the_right_key_is_refused()
    {
        using var http = fixture.RoundRobin.CreateClient();
        const string body = """{"jsonrpc":"2.0","method":"registry.deregister","params":{"service":"calculations","instanceId":"calc-1"},"id":1}""";

        using (var noKey = await http.PostAsync("/internal/rpc", new StringContent(body, Encoding.UTF8, "application/json"), Token))
        {
            noKey.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        }

        using var wrong = new HttpRequestMessage(HttpMethod.Post, "/internal/rpc") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        wrong.Headers.Add("X-Internal-Key", "not-the-key");
        using (var response = await http.SendAsync(wrong, Token))
        {
            response.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        }

        (await Cluster.InstancesAsync(fixture.RoundRobin)).ShouldContainKey("calc-1");
    }

    [Fact]
    public async Task Status_lists_every_instance_with_load_circuit_and_heartbeat_and_totals()
    {
        var status = await Cluster.ServiceStatusAsync(fixture.LeastLoad);

        status["routes"]!.AsArray().Select(r => r!.GetValue<string>()).ShouldBe(["/calculations"]);
        var instances = status["instances"]!.AsArray().Select(i => i!.AsObject()).ToList();
        instances.Select(i => i["instanceId"]!.GetValue<string>()).ShouldBe(RoutingCluster.Ids, ignoreOrder: true);
        foreach (var instance in instances)
        {
            instance["capacity"]!.GetValue<int>().ShouldBe(2);
            instance["circuit"]!.GetValue<string>().ShouldBe("closed");
            instance["lastHeartbeat"]!.GetValue<DateTimeOffset>().ShouldBeGreaterThan(DateTimeOffset.UtcNow.AddSeconds(-Cluster.TtlSeconds));
        }

        status["totals"]!["instances"]!.GetValue<int>().ShouldBe(3);
        status["totals"]!["capacity"]!.GetValue<int>().ShouldBe(6);
    }

    [Fact]
    public async Task Clients_over_the_rate_limit_get_429_with_Retry_After_and_large_bodies_413_even_with_no_instance()
    {
        // A registry prefix nobody registers under: the 413 must not depend on an instance being there to forward to.
        await using var limited = await ServiceProcess.StartAsync("gateway/Calc.Gateway", new Dictionary<string, string?>
        {
            ["Cache__Endpoint"] = fixture.Cluster.CacheEndpoint,
            ["Internal__Key"] = Cluster.InternalKey,
            ["Registry__KeyPrefix"] = "empty" + Guid.NewGuid().ToString("N")[..8],
            ["RateLimiting__PermitLimit"] = "3",
            ["RateLimiting__WindowSeconds"] = "60",
            ["Limits__MaxRequestBodyBytes"] = "100",
        });
        using var http = limited.CreateClient();

        using (var large = await http.PostAsync("/calculations", new StringContent(new string(' ', 200) + "{}", Encoding.UTF8, "application/json"), Token))
        {
            large.StatusCode.ShouldBe(HttpStatusCode.RequestEntityTooLarge);
        }

        using (var second = await http.GetAsync("/calculations/none", Token))
        {
            second.StatusCode.ShouldNotBe(HttpStatusCode.TooManyRequests);
        }

        using (var third = await http.GetAsync("/calculations/none", Token))
        {
            third.StatusCode.ShouldNotBe(HttpStatusCode.TooManyRequests);
        }

        using var refused = await http.GetAsync("/calculations/none", Token);
        refused.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
        refused.Headers.RetryAfter.ShouldNotBeNull();
    }

    private static long Forwarded(JsonObject instance) => instance["forwarded"]!.GetValue<long>();
}
