using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Calc.Testing;

namespace Calc.Gateway.Tests;

/// <summary>
/// One gateway (fast lane on, as by default) with a <see cref="RawInstance"/> registered as service <c>raw</c> under
/// <c>/raw</c>: the test decides every byte the instance answers. Breakers are kept from opening here (the failures
/// are deliberate), and the registry entry lives long enough to need no heartbeats.
/// </summary>
public sealed class FastLaneGateway(PostgresServer postgres, CacheServerProcess cache) : IAsyncLifetime
{
    public Cluster Cluster { get; private set; } = null!;

    public ServiceProcess Gateway => Cluster.Gateway;

    public RawInstance Instance { get; } = new();

    /// <summary>For GET /status: one kept-alive connection, handed to Kestrel once, so reading the counters does not move them.</summary>
    public HttpClient Status { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Cluster = await Cluster.CreateAsync(postgres, cache.Endpoint);
        await Cluster.StartGatewayAsync(
            ("Routes:2:Prefix", "/raw"), ("Routes:2:Service", "raw"), ("Registry:TtlSeconds", "600"),
            ("Resilience:MinimumThroughput", "10000"), ("Resilience:TimeoutSeconds", "2"));
        await RegisterAsync(Gateway, "raw", "raw-1", Instance.BaseUrl);
        Status = Gateway.CreateClient();
    }

    public async ValueTask DisposeAsync()
    {
        Status.Dispose();
        await Cluster.DisposeAsync();
        await Instance.DisposeAsync();
    }

    public static async Task RegisterAsync(ServiceProcess gateway, string service, string instanceId, Uri baseUrl)
    {
        using var http = gateway.CreateClient();
        http.DefaultRequestHeaders.Add("X-Internal-Key", Cluster.InternalKey);
        using var response = await http.PostAsJsonAsync("/internal/rpc", new
        {
            jsonrpc = "2.0",
            id = 1,
            method = "registry.register",
            @params = new { service, instanceId, baseUrl, capacity = 8, processing = 0 },
        }, TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
        (await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).ShouldNotContain("\"error\"");
    }
}

public sealed class FastLaneTests(FastLaneGateway fixture) : IClassFixture<FastLaneGateway>
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private RawInstance Instance => fixture.Instance;

    [Fact(Timeout = 60_000)]
    public async Task A_plain_GET_is_forwarded_with_forwarding_headers_and_without_hop_by_hop_ones_and_the_answer_is_relayed()
    {
        Instance.Script = _ => RawReply.Raw("HTTP/1.1 201 Created\r\nContent-Length: 5\r\nX-Reply: b\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\nhello");
        var before = await FastLaneAsync();
        using var client = await ConnectAsync();

        await SendAsync(client, "GET /raw/items?x=1 HTTP/1.1\r\nHost: example.test\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\n"
                                + "X-Custom: a\r\nX-Forwarded-For: 10.0.0.1\r\nX-Request-Id: fast-lane-1\r\n\r\n");
        var response = await client.Reader.ReadResponseAsync(cancellationToken: Token);

        response.Status.ShouldBe(201);
        response.Text.ShouldBe("hello");
        response.Header("X-Reply").ShouldBe("b");
        response.Header("X-Request-Id").ShouldBe("fast-lane-1");
        response.Has("Keep-Alive").ShouldBeFalse();
        var received = Instance.Received.Last();
        received.Target.ShouldBe("/raw/items?x=1");
        received.Header("Host").ShouldBe($"127.0.0.1:{Instance.Port}");
        received.Header("X-Forwarded-For").ShouldBe("10.0.0.1, 127.0.0.1");
        received.Header("X-Forwarded-Proto").ShouldBe("http");
        received.Header("X-Forwarded-Host").ShouldBe("example.test");
        received.Header("X-Request-Id").ShouldBe("fast-lane-1");
        received.Header("X-Custom").ShouldBe("a");
        received.Has("Connection").ShouldBeFalse();
        received.Has("Keep-Alive").ShouldBeFalse();
        received.Has("TE").ShouldBeFalse();
        var after = await FastLaneAsync();
        after["enabled"]!.GetValue<bool>().ShouldBeTrue();
        after["forwarded"]!.GetValue<long>().ShouldBe(before["forwarded"]!.GetValue<long>() + 1);
        after["handedOff"]!.GetValue<long>().ShouldBe(before["handedOff"]!.GetValue<long>());
    }

    [Fact(Timeout = 60_000)]
    public async Task A_malformed_request_id_is_replaced_by_a_new_one_that_the_instance_and_the_client_both_get()
    {
        Instance.Script = r => RawReply.Text(200, "ok");
        using var client = await ConnectAsync();

        await SendAsync(client, "GET /raw/id HTTP/1.1\r\nHost: x\r\nX-Request-Id: has spaces and <script>\r\n\r\n");
        var response = await client.Reader.ReadResponseAsync(cancellationToken: Token);

        var id = response.Header("X-Request-Id");
        id.ShouldNotBeNull();
        id.ShouldMatch("^[0-9a-f]{32}$");
        Instance.Received.Last().Header("X-Request-Id").ShouldBe(id);
    }

    [Fact(Timeout = 60_000)]
    public async Task Pipelined_requests_are_answered_in_order_over_one_kept_alive_instance_connection()
    {
        Instance.Script = r => RawReply.Text(200, r.Target);
        using var client = await ConnectAsync();
        var count = Instance.Received.Count;

        await SendAsync(client, string.Concat(Enumerable.Range(1, 5).Select(i => $"GET /raw/p/{i} HTTP/1.1\r\nHost: x\r\n\r\n")));
        var bodies = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            bodies.Add((await client.Reader.ReadResponseAsync(cancellationToken: Token)).Text);
        }

        bodies.ShouldBe(["/raw/p/1", "/raw/p/2", "/raw/p/3", "/raw/p/4", "/raw/p/5"]);
        Instance.Received.Skip(count).Select(r => r.Connection).Distinct().Count().ShouldBe(1);
    }

    [Fact(Timeout = 60_000)]
    public async Task Chunked_answers_written_a_few_bytes_at_a_time_pass_whole_and_the_connection_stays_usable()
    {
        const string Chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n";
        Instance.Script = _ => RawReply.Raw(Chunked, piece: 3);
        using var client = await ConnectAsync();

        await SendAsync(client, "GET /raw/chunked HTTP/1.1\r\nHost: x\r\n\r\n");
        var first = await client.Reader.ReadResponseAsync(cancellationToken: Token);
        await SendAsync(client, "GET /raw/chunked HTTP/1.1\r\nHost: x\r\n\r\n");
        var second = await client.Reader.ReadResponseAsync(cancellationToken: Token);

        first.Status.ShouldBe(200);
        first.Text.ShouldBe("hello world");
        second.Text.ShouldBe("hello world");
    }

    [Fact(Timeout = 60_000)]
    public async Task An_answer_without_a_length_runs_to_the_instance_closing_and_the_client_is_told_to_close_too()
    {
        Instance.Script = _ => RawReply.Raw("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end", close: true);
        using var client = await ConnectAsync();

        await SendAsync(client, "GET /raw/unframed HTTP/1.1\r\nHost: x\r\n\r\n");
        var response = await client.Reader.ReadResponseAsync(cancellationToken: Token);

        response.Header("Connection").ShouldBe("close");
        response.Text.ShouldBe("until the end");
    }

    [Fact(Timeout = 60_000)]
    public async Task Large_answers_stream_to_a_slow_reader_without_loss_with_a_length_and_chunked()
    {
        var payload = RandomNumberGenerator.GetBytes(6 * 1024 * 1024);
        var head = Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {payload.Length}\r\n\r\n");
        var chunkedBody = new MemoryStream();
        chunkedBody.Write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"u8);
        for (var offset = 0; offset < payload.Length; offset += 100_000)
        {
            var size = Math.Min(100_000, payload.Length - offset);
            chunkedBody.Write(Encoding.ASCII.GetBytes($"{size:x}\r\n"));
            chunkedBody.Write(payload, offset, size);
            chunkedBody.Write("\r\n"u8);
        }

        chunkedBody.Write("0\r\n\r\n"u8);
        Instance.Script = r => r.Target.EndsWith("chunked", StringComparison.Ordinal) ? new RawReply(chunkedBody.ToArray()) : new RawReply([.. head, .. payload]);
        using var client = await ConnectAsync();

        await SendAsync(client, "GET /raw/big HTTP/1.1\r\nHost: x\r\n\r\n");
        await Task.Delay(1000, Token); // the client reads nothing for a while: the gateway must hold back, not drop
        var withLength = await client.Reader.ReadResponseAsync(cancellationToken: Token);
        await SendAsync(client, "GET /raw/big-chunked HTTP/1.1\r\nHost: x\r\n\r\n");
        await Task.Delay(500, Token);
        var chunked = await client.Reader.ReadResponseAsync(cancellationToken: Token);

        SHA256.HashData(withLength.Body).ShouldBe(SHA256.HashData(payload));
        SHA256.HashData(chunked.Body).ShouldBe(SHA256.HashData(payload));
    }

    [Fact(Timeout = 60_000)]
    public async Task Requests_the_fast_lane_does_not_take_go_to_the_full_path_with_nothing_lost_and_the_connection_stays_there()
    {
        Instance.Script = r => RawReply.Text(200, $"{r.Method} {r.Target} {Encoding.ASCII.GetString(r.Body)}");
        var before = await FastLaneAsync();
        using var client = await ConnectAsync();

        // A POST (not idempotent: the full path decides about retries), then a GET on the same connection.
        await SendAsync(client, "POST /raw/post HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nabc");
        var post = await client.Reader.ReadResponseAsync(cancellationToken: Token);
        await SendAsync(client, "GET /raw/after HTTP/1.1\r\nHost: x\r\n\r\n");
        var get = await client.Reader.ReadResponseAsync(cancellationToken: Token);
        await SendAsync(client, "GET /status HTTP/1.1\r\nHost: x\r\n\r\n");
        var status = await client.Reader.ReadResponseAsync(cancellationToken: Token);
        using var garbage = await ConnectAsync();
        await SendAsync(garbage, "NONSENSE\r\n\r\n");
        var bad = await garbage.Reader.ReadResponseAsync(cancellationToken: Token);

        post.Text.ShouldBe("POST /raw/post abc");
        get.Text.ShouldBe("GET /raw/after ");
        status.Status.ShouldBe(200);
        status.Text.ShouldContain("\"fastLane\"");
        bad.Status.ShouldBe(400);
        var after = await FastLaneAsync();
        after["handedOff"]!.GetValue<long>().ShouldBeGreaterThanOrEqualTo(before["handedOff"]!.GetValue<long>() + 2);
    }

    [Fact(Timeout = 60_000)]
    public async Task An_instance_failing_before_its_answer_is_whole_is_blamed_and_the_request_tried_again_through_the_full_path()
    {
        var calls = 0;
        Instance.Script = r => r.Target == "/raw/flaky" && Interlocked.Increment(ref calls) == 1
            ? RawReply.Raw("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npart of it", close: true)
            : RawReply.Text(200, "second try");
        var failuresBefore = await FailuresAsync();
        using var client = await ConnectAsync();

        await SendAsync(client, "GET /raw/flaky HTTP/1.1\r\nHost: x\r\nX-Request-Id: flaky-1\r\n\r\n");
        var response = await client.Reader.ReadResponseAsync(cancellationToken: Token);

        response.Status.ShouldBe(200);
        response.Text.ShouldBe("second try");
        calls.ShouldBe(2);
        (await FailuresAsync()).ShouldBe(failuresBefore + 1);
        await fixture.Gateway.WaitForOutputAsync("flaky-1", TimeSpan.FromSeconds(5)); // the failure is logged with the request id
    }

    [Fact(Timeout = 60_000)]
    public async Task An_instance_dropping_a_request_without_a_byte_of_answer_gets_it_again_through_the_full_path()
    {
        var calls = 0;
        Instance.Script = r => r.Target == "/raw/dropped" && Interlocked.Increment(ref calls) == 1 ? RawReply.Drop : RawReply.Text(200, "again");
        using var client = await ConnectAsync();

        await SendAsync(client, "GET /raw/dropped HTTP/1.1\r\nHost: x\r\n\r\n");
        var response = await client.Reader.ReadResponseAsync(cancellationToken: Token);

        response.Text.ShouldBe("again");
        calls.ShouldBe(2);
    }

    [Fact(Timeout = 60_000)]
    public async Task An_instance_refusing_for_capacity_gets_the_full_paths_503_with_Retry_After()
    {
        Instance.Script = _ => RawReply.Raw("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 3\r\nContent-Length: 0\r\n\r\n");
        using var client = await ConnectAsync();

        await SendAsync(client, "GET /raw/full HTTP/1.1\r\nHost: x\r\n\r\n");
        var response = await client.Reader.ReadResponseAsync(cancellationToken: Token);

        response.Status.ShouldBe(503);
        response.Header("Retry-After").ShouldNotBeNull();
    }

    [Fact(Timeout = 60_000)]
    public async Task A_HEAD_request_gets_the_length_but_no_body_and_the_next_request_still_works()
    {
        Instance.Script = r => RawReply.Raw(r.Method == "HEAD" ? "HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n" : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        using var client = await ConnectAsync();

        await SendAsync(client, "HEAD /raw/head HTTP/1.1\r\nHost: x\r\n\r\nGET /raw/get HTTP/1.1\r\nHost: x\r\n\r\n");
        var head = await client.Reader.ReadResponseAsync(headRequest: true, cancellationToken: Token);
        var get = await client.Reader.ReadResponseAsync(cancellationToken: Token);

        head.Header("Content-Length").ShouldBe("42");
        get.Text.ShouldBe("ok");
    }

    private async Task<JsonObject> FastLaneAsync() =>
        (await fixture.Status.GetFromJsonAsync<JsonObject>("/status", Token))!["fastLane"]!.AsObject();

    private async Task<long> FailuresAsync()
    {
        var status = (await fixture.Status.GetFromJsonAsync<JsonObject>("/status/raw", Token))!;
        return status["instances"]!.AsArray().Sum(i => i!["failures"]!.GetValue<long>());
    }

    private async Task<RawClient> ConnectAsync()
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(fixture.Gateway.BaseAddress.Host, fixture.Gateway.BaseAddress.Port, Token);
        return new RawClient(tcp);
    }

    private static async Task SendAsync(RawClient client, string request) =>
        await client.Stream.WriteAsync(Encoding.ASCII.GetBytes(request), Token);

    private sealed class RawClient(TcpClient tcp) : IDisposable
    {
        public NetworkStream Stream { get; } = tcp.GetStream();

        public RawReader Reader { get; } = new(tcp.GetStream());

        public void Dispose() => tcp.Dispose();
    }
}

/// <summary>The same gateway with <c>Performance:FastLane</c> off: Kestrel serves every connection.</summary>
public sealed class FastLaneSwitchTests(PostgresServer postgres, CacheServerProcess cache)
{
    [Fact(Timeout = 60_000)]
    public async Task With_the_fast_lane_off_the_gateway_forwards_through_Kestrel_and_says_so_in_status()
    {
        await using var instance = new RawInstance();
        await using var cluster = await Cluster.CreateAsync(postgres, cache.Endpoint);
        var gateway = await cluster.StartGatewayAsync(
            ("Routes:2:Prefix", "/raw"), ("Routes:2:Service", "raw"), ("Registry:TtlSeconds", "600"), ("Performance:FastLane", "false"));
        await FastLaneGateway.RegisterAsync(gateway, "raw", "raw-1", instance.BaseUrl);
        using var http = gateway.CreateClient();

        var body = await http.GetStringAsync("/raw/off", TestContext.Current.CancellationToken);
        var status = (await http.GetFromJsonAsync<JsonObject>("/status", TestContext.Current.CancellationToken))!;

        body.ShouldBe("/raw/off");
        status["fastLane"]!["enabled"]!.GetValue<bool>().ShouldBeFalse();
        status["fastLane"]!["forwarded"]!.GetValue<long>().ShouldBe(0);
    }
}

/// <summary>Kestrel's connection limits hold on the fast lane too, for the connections Kestrel never sees.</summary>
public sealed class FastLaneLimitsTests(PostgresServer postgres, CacheServerProcess cache)
{
    [Fact(Timeout = 90_000)]
    public async Task Idle_connections_close_after_the_keep_alive_timeout_and_incomplete_requests_after_the_headers_timeout()
    {
        var token = TestContext.Current.CancellationToken;
        await using var instance = new RawInstance();
        await using var cluster = await Cluster.CreateAsync(postgres, cache.Endpoint);
        var gateway = await cluster.StartGatewayAsync(
            ("Routes:2:Prefix", "/raw"), ("Routes:2:Service", "raw"), ("Registry:TtlSeconds", "600"),
            ("Limits:KeepAliveSeconds", "2"), ("Limits:RequestHeadersSeconds", "2"));
        await FastLaneGateway.RegisterAsync(gateway, "raw", "raw-1", instance.BaseUrl);
        using var idle = new TcpClient();
        await idle.ConnectAsync(gateway.BaseAddress.Host, gateway.BaseAddress.Port, token);
        using var partial = new TcpClient();
        await partial.ConnectAsync(gateway.BaseAddress.Host, gateway.BaseAddress.Port, token);
        var reader = new RawReader(idle.GetStream());

        await idle.GetStream().WriteAsync("GET /raw/once HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray(), token);
        var answered = await reader.ReadResponseAsync(cancellationToken: token);
        await partial.GetStream().WriteAsync("GET /raw/never-finished HTTP/1.1\r\nHo"u8.ToArray(), token);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var idleEnd = await idle.GetStream().ReadAsync(new byte[1], token);
        var idleClosedAfter = clock.Elapsed;
        var partialEnd = await partial.GetStream().ReadAsync(new byte[1], token);

        answered.Text.ShouldBe("/raw/once");
        idleEnd.ShouldBe(0);
        partialEnd.ShouldBe(0);
        idleClosedAfter.ShouldBeGreaterThan(TimeSpan.FromSeconds(1));
        idleClosedAfter.ShouldBeLessThan(TimeSpan.FromSeconds(10));
    }
}
