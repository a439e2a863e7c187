using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Calc.Testing;

namespace Calc.Jobs.Tests;

/// <summary>
/// Seed 003 end to end on the full profile: an API process and a worker process on real Redis and RabbitMQ, a
/// provider that fails its first calls, and a callback receiver; the request id follows the flow through every log line.
/// </summary>
public sealed class FetchJobTests(RedisServer redis, RabbitMqServer broker)
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_fetch_job_retries_a_failing_provider_then_posts_requestId_and_data_to_its_callback_and_the_request_id_is_in_every_worker_log_line()
    {
        await using var provider = new HttpReceiver
        {
            Answer = r => r.Number <= 2 ? (503, "") : (200, """{"city":"Oslo","temperature":-3.5}"""),
        };
        await provider.StartAsync();
        await using var receiver = new HttpReceiver();
        await receiver.StartAsync();

        (string, string)[] settings =
        [
            ("Jobs:Providers:weather", provider.Url("/weather?city=oslo")),
            ("Jobs:FetchRetryBaseDelay", "00:00:00.200"),
            ("Jobs:FetchRetryMaxDelay", "00:00:01"),
            ("Callbacks:PollInterval", "00:00:00.100"),
            ("Callbacks:AllowedHosts:0", "127.0.0.1"),
            ("Callbacks:AllowedNetworks:0", "127.0.0.0/8"),
            ("Jobs:FetchAllowedNetworks:0", "127.0.0.0/8"),
            ("Logging:Console:FormatterOptions:IncludeScopes", "true"),
            ("Logging:Console:FormatterOptions:SingleLine", "true"),
        ];
        var deployment = new JobsDeployment(redis, broker.ConnectionString);
        var apiStart = deployment.StartAsync("api", "jobs-api", settings);
        var workerStart = deployment.StartAsync("worker", "jobs-worker", settings);
        var (apiProcess, api) = await apiStart;
        await using var _ = apiProcess;
        var (worker, _) = await workerStart;
        await using var __ = worker;

        const string RequestId = "fetch-flow-7f3a";
        using var post = new HttpRequestMessage(HttpMethod.Post, "/jobs/fetch")
        {
            Content = JsonContent.Create(new { provider = "weather", callbackUrl = receiver.Url("/callback") }),
        };
        post.Headers.Add("X-Request-Id", RequestId);
        using var response = await api.Http.SendAsync(post, Token);
        var accepted = await JobsClient.ReadAsync(response, HttpStatusCode.Accepted);
        var id = accepted["id"]!.GetValue<string>();
        accepted["requestId"]!.GetValue<string>().ShouldBe(RequestId);
        (accepted["kind"]!.GetValue<string>(), accepted["status"]!.GetValue<string>()).ShouldBe(("fetch", "queued"));

        var received = await receiver.WaitForAsync(r => r.Path == "/callback", Generous);
        var body = JsonNode.Parse(received.Body)!.AsObject();
        body["requestId"]!.GetValue<string>().ShouldBe(RequestId);
        body["data"]!["city"]!.GetValue<string>().ShouldBe("Oslo");
        body["data"]!["temperature"]!.GetValue<decimal>().ShouldBe(-3.5m);
        received.Headers["X-Request-Id"].ShouldBe(RequestId);

        // Fetched on the third call (two failures retried with backoff), the provider saw the request id too.
        provider.Received.Count.ShouldBe(3);
        provider.Received.ShouldAllBe(r => r.Headers["X-Request-Id"] == RequestId && r.Path == "/weather?city=oslo");
        var job = await api.WaitForAsync(id, j => j["callback"]?["state"]?.GetValue<string>() == "delivered", Generous);
        JobsClient.Status(job).ShouldBe("done");
        job["fetch"]!["providerCalls"]!.GetValue<int>().ShouldBe(3);
        job["fetch"]!["data"]!["city"]!.GetValue<string>().ShouldBe("Oslo");
        job["worker"]!.GetValue<string>().ShouldBe("jobs-worker");

        // The request id is in the API's log line for the job and in every worker line about it: start, each
        // provider call and retry, the end, and the callback delivery.
        await apiProcess.WaitForOutputAsync($"RequestId:{RequestId} Job {id} (fetch) queued (request {RequestId})", Generous);
        await worker.WaitForOutputAsync($"Callback for {id} delivered", Generous);
        var workerLines = worker.Output.Split('\n').Where(l => l.Contains(id, StringComparison.Ordinal)).ToList();
        workerLines.ShouldContain(l => l.Contains("started", StringComparison.Ordinal));
        workerLines.Count(l => l.Contains("calling provider weather", StringComparison.Ordinal)).ShouldBe(3);
        workerLines.Count(l => l.Contains("retrying in", StringComparison.Ordinal)).ShouldBe(2);
        workerLines.ShouldContain(l => l.Contains("ended done", StringComparison.Ordinal));
        workerLines.ShouldAllBe(l => l.Contains($"RequestId:{RequestId}", StringComparison.Ordinal));
    }
}
