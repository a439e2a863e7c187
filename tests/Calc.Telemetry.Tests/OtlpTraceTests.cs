using System.Net;
using System.Net.Http.Json;
using Calc.Testing;

namespace Calc.Telemetry.Tests;

/// <summary>
/// What an OTLP backend (the Aspire dashboard, a collector) sees of a budget job: one trace, exported by each process
/// that took part, from the gateway through the Jobs API, RabbitMQ and the worker to the callback delivery.
/// </summary>
public sealed class OtlpTraceTests(CacheServerProcess cache, RabbitMqServer broker, RedisServer redis)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_budget_job_is_exported_over_OTLP_as_one_connected_trace_from_the_gateway_through_the_api_and_the_worker_to_the_callback()
    {
        await using var otlp = new OtlpReceiver();
        await otlp.StartAsync();
        await using var receiver = new HttpReceiver();
        await receiver.StartAsync();
        await using var cluster = new GatewayCluster(cache.Endpoint);
        await cluster.StartGatewayAsync(otlp.ExporterSettings());

        (string, string?)[] jobsSettings =
        [
            .. otlp.ExporterSettings(),
            ("Callbacks:PollInterval", "00:00:00.100"),
            ("Callbacks:AllowedNetworks:0", "127.0.0.0/8"),
            ("Database:Provider", "redis"),
            ("Database:ConnectionString", $"{redis.Endpoint},prefix={redis.CreateKeyPrefix()}"),
            ("Queue:Provider", "rabbitmq"),
            ("Queue:ConnectionString", broker.ConnectionString),
            ("Jobs:QueueName", RabbitMqServer.UniqueName("jobs")),
        ];
        await cluster.StartJobsAsync("jobs-api-otlp", [.. jobsSettings, ("Role", "api")]);
        var workerEnvironment = new Dictionary<string, string?>(StringComparer.Ordinal) { ["Role"] = "worker", ["Service__InstanceId"] = "jobs-worker-otlp" };
        foreach (var (key, value) in jobsSettings)
        {
            workerEnvironment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        await using var worker = await ServiceProcess.StartAsync("services/Calc.Jobs", workerEnvironment);
        await cluster.WaitForInstancesAsync("jobs", ["jobs-api-otlp"], cancellationToken: Token);
        using var http = cluster.Gateway.CreateClient();

        var trace = Guid.NewGuid().ToString("N");
        var clientSpan = Guid.NewGuid().ToString("N")[..16];
        using (var post = new HttpRequestMessage(HttpMethod.Post, "/jobs/budget")
        {
            Content = JsonContent.Create(new { daysOnline = 3, budget = 100m, callbackUrl = receiver.Url("/budget") }),
        })
        {
            post.Headers.Add("traceparent", $"00-{trace}-{clientSpan}-01");
            using var response = await http.SendAsync(post, Token);
            response.StatusCode.ShouldBe(HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync(Token));
        }

        _ = await receiver.WaitForAsync(r => r.Path == "/budget", TimeSpan.FromSeconds(60));

        // Spans arrive per process and batch, children before parents at times: wait until the trace is whole, i.e.
        // it has the callback delivery and every span's parent is the client's span or another span of the trace.
        var spans = await otlp.WaitForAsync(
            all =>
            {
                var inTrace = all.Where(s => s.TraceId == trace).ToList();
                var ids = inTrace.Select(s => s.SpanId).Append(clientSpan).ToHashSet(StringComparer.Ordinal);
                return inTrace.Any(s => s.Name == "callback deliver") && inTrace.All(s => ids.Contains(s.ParentSpanId));
            },
            TimeSpan.FromSeconds(60),
            "the job's trace is exported whole, up to its callback delivery");

        var traced = spans.Where(s => s.TraceId == trace).ToList();
        traced.ShouldContain(s => s.ServiceName == "gateway" && s.ParentSpanId == clientSpan, "the gateway continues the client's trace");
        traced.ShouldContain(s => s.InstanceId == "jobs-api-otlp" && s.Kind == 2, "the Jobs API's server span");
        traced.ShouldContain(s => s.InstanceId == "jobs-api-otlp" && s.Kind == 4, "the API publishes the job message in the trace");
        traced.ShouldContain(s => s.InstanceId == "jobs-worker-otlp" && s.Kind == 5, "the worker processes the message in the trace");
        traced.ShouldContain(s => s.InstanceId == "jobs-worker-otlp" && s.Name == "callback deliver", "the callback delivery is the worker's, in the trace");
        traced.ShouldContain(s => s.InstanceId == "jobs-worker-otlp" && s.Name == "POST" && s.Kind == 3, "the callback POST is a client span of the trace");
    }
}
