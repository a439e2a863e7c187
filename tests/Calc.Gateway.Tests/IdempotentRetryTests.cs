using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Calc.Testing;

namespace Calc.Gateway.Tests;

/// <summary>
/// Retries that must not look like failures: a POST with an <c>Idempotency-Key</c> is sent again to another instance
/// when the first died after doing it (one resource, no 502), a finalize retried after its instance stored
/// <c>processing</c> answers the current state (no 409), and a term PUT retried after its instance stored the term is
/// added once (the gateway gives each PUT a key). Real processes; instances killed with SIGKILL.
/// </summary>
public sealed class IdempotentRetryTests(PostgresServer postgres, CacheServerProcess cache)
{
    private const string Header = "Idempotency-Key";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static async Task<(HttpStatusCode Status, string? Id)> CreateAsync(HttpClient http, string? key, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/calculations") { Content = Json(body) };
        if (key is not null)
        {
            request.Headers.Add(Header, key);
        }

        using var response = await http.SendAsync(request, Token);
        var json = response.Content.Headers.ContentType?.MediaType?.Contains("json", StringComparison.Ordinal) == true
            ? await response.Content.ReadFromJsonAsync<JsonObject>(Token)
            : null;
        return (response.StatusCode, response.StatusCode == HttpStatusCode.Created ? json!["id"]!.GetValue<string>() : null);
    }

    // With a Content-Length, as curl, the CLI and browsers send it: a body of unknown length (chunked) streams
    // through the gateway, so it could not be sent a second time, key or not.
    private static StringContent Json(object body) => new(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");

    private static async Task<long> CountAsync(HttpClient http) =>
        (await http.GetFromJsonAsync<JsonObject>("/calculations?pageSize=1", Token))!["total"]!.GetValue<long>();

    [Fact]
    public async Task A_keyed_POST_whose_instance_did_the_work_and_died_before_answering_is_retried_elsewhere_and_makes_one_calculation_an_unkeyed_one_is_a_502()
    {
        await using var cluster = await Cluster.CreateAsync(postgres, cache.Endpoint);
        var gateway = await cluster.StartGatewayAsync(
            ("Balancing:Mode", "RoundRobin"), ("Resilience:MinimumThroughput", "1000"), ("Registry:TtlSeconds", "60"));
        await cluster.StartInstanceAsync("calc-1");
        using var direct = cluster.Instance("calc-1").CreateClient();

        // An "instance" that hands each request to calc-1 and cuts the connection as soon as calc-1 starts answering:
        // the work is done and stored, and the gateway sees the instance die before any answer.
        await using var dying = new AnswerCuttingRelay(cluster.Instance("calc-1").BaseAddress);
        var announcement = new { service = "calculations", instanceId = "dying-1", baseUrl = dying.BaseUrl, capacity = 100, processing = 0 };
        (await FaultTests.RpcAsync(gateway, "registry.register", announcement))["result"].ShouldNotBeNull();
        await Cluster.WaitForInstancesAsync(gateway, i => i.Count == 2, TimeSpan.FromSeconds(15), "calc-1 and dying-1");
        using var http = gateway.CreateClient();

        var ids = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            var (status, id) = await CreateAsync(http, $"keyed-{i}", new { type = "addition", init = i });
            status.ShouldBe(HttpStatusCode.Created, gateway.Output);
            ids.Add(id!);
        }

        await gateway.WaitForOutputAsync("POST to instance dying-1 failed");
        dying.Cut.ShouldBeGreaterThan(0);
        ids.Distinct().Count().ShouldBe(10);
        (await CountAsync(direct)).ShouldBe(10, "each key made one calculation, though its first instance made it too");

        // Without a key the gateway cannot know that sending again is safe: the client gets the 502.
        var unkeyed = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            unkeyed.Add((await CreateAsync(http, null, new { type = "addition", init = i })).Status);
        }

        unkeyed.ShouldContain(HttpStatusCode.BadGateway);
        (await CountAsync(direct)).ShouldBe(14, "a 502'd create without a key was made all the same");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_term_PUT_whose_instance_stored_it_and_died_before_answering_is_retried_elsewhere_and_added_once(bool fastLane)
    {
        await using var cluster = await Cluster.CreateAsync(postgres, cache.Endpoint);
        var gateway = await cluster.StartGatewayAsync(
            ("Balancing:Mode", "RoundRobin"), ("Resilience:MinimumThroughput", "1000"), ("Registry:TtlSeconds", "60"),
            ("Performance:FastLane", fastLane ? "true" : "false"));
        await cluster.StartInstanceAsync("calc-1");
        using var direct = cluster.Instance("calc-1").CreateClient();

        // As above: each PUT the relay passes on is stored by calc-1, and the gateway sees the relay die unanswered.
        await using var dying = new AnswerCuttingRelay(cluster.Instance("calc-1").BaseAddress);
        var announcement = new { service = "calculations", instanceId = "dying-1", baseUrl = dying.BaseUrl, capacity = 100, processing = 0 };
        (await FaultTests.RpcAsync(gateway, "registry.register", announcement))["result"].ShouldNotBeNull();
        await Cluster.WaitForInstancesAsync(gateway, i => i.Count == 2, TimeSpan.FromSeconds(15), "calc-1 and dying-1");
        using var http = gateway.CreateClient();
        var id = await Calculations.CreateAsync(direct, new { type = "addition", init = 1000 });

        const int terms = 10;
        for (var i = 1; i <= terms; i++)
        {
            using var term = await http.PutAsync($"/calculations/{id}", Json(new { term = i }), Token);
            term.StatusCode.ShouldBe(HttpStatusCode.OK, $"{await term.Content.ReadAsStringAsync(Token)}\n{gateway.Output}");
        }

        // The fast lane sent some PUTs to the relay itself and handed them to the full path when it died.
        await gateway.WaitForOutputAsync(fastLane ? "HTTP/1.1 to instance dying-1 failed" : "PUT to instance dying-1 failed");
        dying.Cut.ShouldBeGreaterThan(0);
        (await direct.GetFromJsonAsync<JsonObject>($"/calculations/{id}", Token))!["termCount"]!.GetValue<int>()
            .ShouldBe(terms, "each PUT added its term once, though its first instance added it too");

        // The client's own key is passed on as it is (alone: two values would be a 400) and keeps its meaning.
        for (var i = 0; i < 2; i++)
        {
            using var keyed = new HttpRequestMessage(HttpMethod.Put, $"/calculations/{id}") { Content = Json(new { term = 100 }) };
            keyed.Headers.Add(Header, "client-term-key");
            using var answer = await http.SendAsync(keyed, Token);
            answer.StatusCode.ShouldBe(HttpStatusCode.OK, await answer.Content.ReadAsStringAsync(Token));
            (await answer.Content.ReadFromJsonAsync<JsonObject>(Token))!["termCount"]!.GetValue<int>().ShouldBe(terms + 1);
        }
        using (var finalize = await direct.PutAsync($"/calculations/{id}/finalize", null, Token))
        {
            finalize.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        }

        var done = await Calculations.WaitForStatusAsync(direct, id, "done");
        done["result"]!.GetValue<long>().ShouldBe(1000 + (terms * (terms + 1) / 2) + 100);
    }

    [Fact]
    public async Task Instance_killed_during_create_term_finalize_loops_no_client_sees_a_failure_and_each_key_made_one_calculation()
    {
        await using var cluster = await Cluster.CreateAsync(postgres, cache.Endpoint);
        var gateway = await cluster.StartGatewayAsync();
        string[] ids = ["calc-1", "calc-2"];
        await cluster.StartInstancesAsync(ids, ("Capacity:Slots", "16"), ("Capacity:ReservedHigh", "1"), ("Calculations:LeaseSeconds", "5"), ("Calculations:RecoveryIntervalSeconds", "1"));
        await Cluster.WaitForInstancesAsync(gateway, i => ids.All(i.ContainsKey), TimeSpan.FromSeconds(15), "two instances");
        using var http = gateway.CreateClient();

        // Bounded: 8 clients, at most 10 s or 1500 calculations; calc-2 is SIGKILLed after 1.5 s.
        var failures = new ConcurrentQueue<string>();
        var made = new ConcurrentDictionary<string, (string Id, object Body)>(StringComparer.Ordinal);
        var finalizes = new ConcurrentBag<HttpStatusCode>();
        var budget = 1500;
        var clock = Stopwatch.StartNew();
        var load = Enumerable.Range(0, 8).Select(client => Task.Run(async () =>
        {
            while (clock.Elapsed < TimeSpan.FromSeconds(10) && Interlocked.Decrement(ref budget) >= 0)
            {
                var key = Guid.NewGuid().ToString("N");
                var body = new { type = "addition", init = client };
                var (created, id) = await CreateAsync(http, key, body);
                if (created != HttpStatusCode.Created)
                {
                    failures.Enqueue($"create {key}: {(int)created}");
                    continue;
                }

                made[key] = (id!, body);
                using (var term = await http.PutAsync($"/calculations/{id}", Json(new { term = 1 }), Token))
                {
                    if (term.StatusCode != HttpStatusCode.OK)
                    {
                        failures.Enqueue($"term {id}: {(int)term.StatusCode} {await term.Content.ReadAsStringAsync(Token)}");
                        continue;
                    }
                }

                using var finalize = await http.PutAsync($"/calculations/{id}/finalize", null, Token);
                finalizes.Add(finalize.StatusCode);
                if (finalize.StatusCode is not (HttpStatusCode.Accepted or HttpStatusCode.OK))
                {
                    failures.Enqueue($"finalize {id}: {(int)finalize.StatusCode} {await finalize.Content.ReadAsStringAsync(Token)}");
                }
            }
        }, Token)).ToList();
        await Task.Delay(1500, Token);
        await cluster.Instance("calc-2").KillAsync();
        await Task.WhenAll(load);

        failures.ShouldBeEmpty($"{made.Count} calculations; gateway:\n{gateway.Output}");
        made.Count.ShouldBeGreaterThan(50);
        finalizes.Count.ShouldBe(made.Count);
        await gateway.WaitForOutputAsync("to instance calc-2 failed");

        // Each key made exactly one calculation, and sending it again answers that one.
        using var survivor = cluster.Instance("calc-1").CreateClient();
        (await CountAsync(survivor)).ShouldBe(made.Count);
        foreach (var (key, (id, body)) in made.Take(20))
        {
            var (status, again) = await CreateAsync(http, key, body);
            status.ShouldBe(HttpStatusCode.Created);
            again.ShouldBe(id);
        }

        // Each term was added once, though a PUT retried after calc-2 died may have been stored there already; the
        // calculations calc-2 was running are taken up by calc-1 once their leases (5 s) expire.
        await Parallel.ForEachAsync(made.Values, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = Token }, async (entry, _) =>
        {
            var done = await Calculations.WaitForStatusAsync(survivor, entry.Id, "done");
            done["termCount"]!.GetValue<int>().ShouldBe(1, entry.Id);
            done["result"]!.GetValue<long>().ShouldBe(JsonSerializer.SerializeToNode(entry.Body)!["init"]!.GetValue<int>() + 1, entry.Id);
        });
    }

    /// <summary>
    /// Relays each connection to an upstream and cuts it (RST) the moment the upstream's answer begins, without passing
    /// a byte of it on: to the caller, an instance that died after doing the work.
    /// </summary>
    private sealed class AnswerCuttingRelay : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly Uri _upstream;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _accepting;
        private int _cut;

        public AnswerCuttingRelay(Uri upstream)
        {
            _upstream = upstream;
            _listener.Start(100);
            _accepting = AcceptAsync();
        }

        public string BaseUrl => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

        /// <summary>Connections cut after the upstream began to answer.</summary>
        public int Cut => Volatile.Read(ref _cut);

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            try
            {
                await _accepting;
            }
            catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // Stopped.
            }

            _stop.Dispose();
        }

        private async Task AcceptAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                _ = RelayAsync(client);
            }
        }

        private async Task RelayAsync(TcpClient client)
        {
            using (client)
            using (var upstream = new TcpClient())
            {
                try
                {
                    await upstream.ConnectAsync(_upstream.Host, _upstream.Port, _stop.Token);
                    var forwarding = client.GetStream().CopyToAsync(upstream.GetStream(), _stop.Token);
                    var first = new byte[1];
                    if (await upstream.GetStream().ReadAsync(first, _stop.Token) > 0)
                    {
                        Interlocked.Increment(ref _cut);
                    }

                    client.Client.LingerState = new LingerOption(true, 0);
                    client.Client.Close();
                    await Task.WhenAny(forwarding);
                }
                catch (Exception exception) when (exception is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
                {
                    // The caller or the test went away.
                }
            }
        }
    }
}
