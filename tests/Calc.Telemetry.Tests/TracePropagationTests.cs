using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Calc.Testing;

namespace Calc.Telemetry.Tests;

/// <summary>
/// One trace from the client to the callback, through real processes: the gateway (both its paths), a Calculations
/// instance, a Jobs API and a Jobs worker on RabbitMQ, and a callback receiver. The client sends a known
/// <c>traceparent</c>; the receiver must see the same trace id, and the processes that did the work log it.
/// </summary>
public sealed class TracePropagationTests(CacheServerProcess cache, RabbitMqServer broker, RedisServer redis)
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_budget_job_and_a_calculation_each_reach_their_callback_in_the_trace_the_client_started_and_the_worker_and_instance_log_its_trace_id()
    {
        await using var receiver = new HttpReceiver();
        await receiver.StartAsync();
        await using var cluster = new GatewayCluster(cache.Endpoint);
        await cluster.StartGatewayAsync();

        (string, string?)[] callbacks =
        [
            ("Callbacks:PollInterval", "00:00:00.100"),
            ("Callbacks:AllowedNetworks:0", "127.0.0.0/8"),
            ("Logging:LogLevel:Calc", "Information"),
            ("Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics", "Information"),
            ("Logging:Console:FormatterOptions:IncludeScopes", "true"),
            ("Logging:Console:FormatterOptions:SingleLine", "true"),
        ];
        var queueName = RabbitMqServer.UniqueName("jobs");
        var keyPrefix = redis.CreateKeyPrefix();
        (string, string?)[] jobsStorage =
        [
            ("Database:Provider", "redis"),
            ("Database:ConnectionString", $"{redis.Endpoint},prefix={keyPrefix}"),
            ("Queue:Provider", "rabbitmq"),
            ("Queue:ConnectionString", broker.ConnectionString),
            ("Jobs:QueueName", queueName),
        ];
        var calculationsStart = cluster.StartCalculationsAsync("calc-traced", callbacks);
        var apiStart = cluster.StartJobsAsync("jobs-api-traced", [.. jobsStorage, .. callbacks, ("Role", "api")]);
        // The worker serves no API: it does not register with the gateway.
        var workerEnvironment = new Dictionary<string, string?>(StringComparer.Ordinal) { ["Role"] = "worker", ["Service__InstanceId"] = "jobs-worker-traced" };
        foreach (var (key, value) in jobsStorage.Concat(callbacks))
        {
            workerEnvironment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        await using var worker = await ServiceProcess.StartAsync("services/Calc.Jobs", workerEnvironment);
        var instance = await calculationsStart;
        await apiStart;
        await cluster.WaitForInstancesAsync("calculations", ["calc-traced"], cancellationToken: Token);
        await cluster.WaitForInstancesAsync("jobs", ["jobs-api-traced"], cancellationToken: Token);
        using var http = cluster.Gateway.CreateClient();

        // A budget job: gateway (POST: the full path) -> Jobs API -> RabbitMQ -> worker -> callback.
        var jobTrace = NewTraceId();
        using (var post = new HttpRequestMessage(HttpMethod.Post, "/jobs/budget")
        {
            Content = JsonContent.Create(new { daysOnline = 3, budget = 100m, callbackUrl = receiver.Url("/budget") }),
        })
        {
            post.Headers.Add("traceparent", $"00-{jobTrace}-{NewSpanId()}-01");
            using var response = await http.SendAsync(post, Token);
            response.StatusCode.ShouldBe(HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync(Token));
        }

        var jobCallback = await WaitForCallbackAsync(receiver, "/budget");
        TraceIdOf(jobCallback).ShouldBe(jobTrace, $"the job's callback carries the client's trace id; got traceparent '{jobCallback.Headers.GetValueOrDefault("traceparent")}'");
        worker.Output.ShouldContain(jobTrace, customMessage: "the worker's log lines carry the trace id");

        // A calculation: create (POST: the full path), then finalize (PUT: the fast lane), both in one client trace.
        var calculationTrace = NewTraceId();
        string id;
        using (var create = new HttpRequestMessage(HttpMethod.Post, "/calculations")
        {
            Content = JsonContent.Create(new { type = "addition", init = 39, callbackUrl = receiver.Url("/calculation") }),
        })
        {
            create.Headers.Add("traceparent", $"00-{calculationTrace}-{NewSpanId()}-01");
            using var response = await http.SendAsync(create, Token);
            var json = await response.Content.ReadFromJsonAsync<JsonObject>(Token);
            response.StatusCode.ShouldBe(HttpStatusCode.Created, json?.ToJsonString());
            id = json!["id"]!.GetValue<string>();
        }

        using (var finalize = new HttpRequestMessage(HttpMethod.Put, $"/calculations/{id}/finalize"))
        {
            finalize.Headers.Add("traceparent", $"00-{calculationTrace}-{NewSpanId()}-01");
            using var response = await http.SendAsync(finalize, Token);
            response.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        }

        var calculationCallback = await WaitForCallbackAsync(receiver, "/calculation");
        TraceIdOf(calculationCallback).ShouldBe(calculationTrace, $"the calculation's callback carries the client's trace id; got '{calculationCallback.Headers.GetValueOrDefault("traceparent")}'");
        instance.Output.ShouldContain(calculationTrace, customMessage: "the instance's log lines carry the trace id");

        // No exporter is set here, so nothing records spans: the client's sampled flag still reaches the receivers.
        jobCallback.Headers["traceparent"].ShouldEndWith("-01");
        calculationCallback.Headers["traceparent"].ShouldEndWith("-01");
    }

    [Fact]
    public async Task GETs_on_one_kept_alive_connection_which_the_fast_lane_serves_continue_the_clients_trace_at_the_instance()
    {
        await using var cluster = new GatewayCluster(cache.Endpoint);
        await cluster.StartGatewayAsync();
        var instance = await cluster.StartCalculationsAsync(
            "calc-fastlane",
            ("Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics", "Information"),
            ("Logging:Console:FormatterOptions:IncludeScopes", "true"),
            ("Logging:Console:FormatterOptions:SingleLine", "true"));
        await cluster.WaitForInstancesAsync("calculations", ["calc-fastlane"], cancellationToken: Token);
        using var http = cluster.Gateway.CreateClient();

        // GETs on one kept-alive connection: the fast lane serves them (the first may go through the full path while
        // its connection to the instance opens), writing the traceparent into the head it builds itself.
        var trace = NewTraceId();
        for (var i = 0; i < 3; i++)
        {
            using var get = new HttpRequestMessage(HttpMethod.Get, "/calculations/does-not-exist");
            get.Headers.Add("traceparent", $"00-{trace}-{NewSpanId()}-01");
            using var response = await http.SendAsync(get, Token);
            response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        }

        await instance.WaitForOutputAsync(trace, TimeSpan.FromSeconds(10));
    }

    private static string NewTraceId() => Guid.NewGuid().ToString("N");

    private static string NewSpanId() => Guid.NewGuid().ToString("N")[..16];

    private static string? TraceIdOf(ReceivedRequest request) =>
        request.Headers.TryGetValue("traceparent", out var value) && value.Length == 55 ? value[3..35] : null;

    private static Task<ReceivedRequest> WaitForCallbackAsync(HttpReceiver receiver, string path) =>
        receiver.WaitForAsync(r => r.Path == path, Generous);
}
