using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Calc.Testing;

namespace Calc.Jobs.Tests;

/// <summary>
/// Callbacks and fetch jobs on the embedded defaults (SQLite, in-process queue, workers in the service), with
/// providers and receivers as small Kestrel apps on loopback ports.
/// </summary>
public sealed class JobCallbackTests : IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);

    private readonly TempDirectory _directory = new();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public void Dispose() => _directory.Dispose();

    private JobsApp StartApp(params (string Key, string? Value)[] extra) => new(_directory,
    [
        ("Callbacks:MaxAttempts", "10"),
        ("Callbacks:RetryBaseDelay", "00:00:00.100"),
        ("Callbacks:RetryMaxDelay", "00:00:00.500"),
        ("Callbacks:PollInterval", "00:00:00.100"),
        ("Callbacks:AllowedHosts:0", "127.0.0.1"),
        ("Callbacks:AllowedNetworks:0", "127.0.0.0/8"),
        ("Jobs:FetchAllowedNetworks:0", "127.0.0.0/8"),
        ("Jobs:FetchRetryBaseDelay", "00:00:00.100"),
        ("Jobs:FetchRetryMaxDelay", "00:00:00.300"),
        .. extra,
    ]);

    private static async Task<(HttpStatusCode Status, JsonObject Body)> PostAsync(JobsClient api, string path, object body)
    {
        using var response = await api.Http.PostAsJsonAsync(path, body, Token);
        var text = await response.Content.ReadAsStringAsync(Token);
        return (response.StatusCode, JsonNode.Parse(text)!.AsObject());
    }

    private static string CallbackState(JsonObject job) => job["callback"]?["state"]?.GetValue<string>() ?? "";

    [Fact]
    public async Task A_finished_budget_job_is_posted_to_its_callback_url_with_its_distribution_and_request_id()
    {
        await using var receiver = new HttpReceiver();
        await receiver.StartAsync();
        await using var app = StartApp();
        var api = new JobsClient(app.CreateClient());

        var (status, created) = await PostAsync(api, "/jobs/budget", new { daysOnline = 3, budget = 100m, callbackUrl = receiver.Url("/budget") });
        status.ShouldBe(HttpStatusCode.Accepted, created.ToJsonString());
        var id = created["id"]!.GetValue<string>();
        var requestId = created["requestId"]!.GetValue<string>();

        var received = await receiver.WaitForAsync(r => r.Path == "/budget", Generous);
        var body = JsonNode.Parse(received.Body)!.AsObject();
        body["requestId"]!.GetValue<string>().ShouldBe(requestId);
        body["id"]!.GetValue<string>().ShouldBe(id);
        body["status"]!.GetValue<string>().ShouldBe("done");
        body["data"]!["distribution"]!.AsArray().Select(d => d!["amount"]!.GetValue<decimal>()).ShouldBe([33.34m, 33.33m, 33.33m]);
        var job = await api.WaitForAsync(id, j => CallbackState(j) == "delivered", Generous);
        job["callback"]!["attempts"]!.GetValue<int>().ShouldBe(1);
    }

    [Fact]
    public async Task Bulk_rows_with_a_callbackUrl_are_each_posted_and_a_row_with_a_host_outside_the_allow_list_is_a_row_error()
    {
        await using var receiver = new HttpReceiver();
        await receiver.StartAsync();
        await using var app = StartApp();
        var api = new JobsClient(app.CreateClient());
        var csv = "jobId,daysOnline,budget,callbackUrl\n" +
                  $"bulk-a,2,10.00,{receiver.Url("/bulk/a")}\n" +
                  "bulk-b,1,5.00,http://elsewhere.example/hook\n" +
                  $"bulk-c,3,1.00,{receiver.Url("/bulk/c")}\n" +
                  "bulk-d,1,2.00,\n";

        using var content = new StringContent(csv, System.Text.Encoding.UTF8, "text/csv");
        using var response = await api.Http.PostAsync("/jobs/budget/bulk", content, Token);
        var batch = JsonNode.Parse(await response.Content.ReadAsStringAsync(Token))!.AsObject();
        response.StatusCode.ShouldBe(HttpStatusCode.Accepted, batch.ToJsonString());
        batch["accepted"]!.GetValue<int>().ShouldBe(3);
        var error = batch["errors"]!.AsArray().ShouldHaveSingleItem()!;
        error["row"]!.GetValue<int>().ShouldBe(2);
        error["field"]!.GetValue<string>().ShouldBe("callbackUrl");

        var a = JsonNode.Parse((await receiver.WaitForAsync(r => r.Path == "/bulk/a", Generous)).Body)!;
        a["id"]!.GetValue<string>().ShouldBe("bulk-a");
        a["data"]!["distribution"]!.AsArray().Select(d => d!["amount"]!.GetValue<decimal>()).ShouldBe([5.00m, 5.00m]);
        var c = JsonNode.Parse((await receiver.WaitForAsync(r => r.Path == "/bulk/c", Generous)).Body)!;
        c["data"]!["distribution"]!.AsArray().Select(d => d!["amount"]!.GetValue<decimal>()).Sum().ShouldBe(1.00m);
        (await api.WaitForFinalAsync("bulk-d", Generous))["callback"].ShouldBeNull(); // No URL in its row: no callback.
    }

    [Fact]
    public async Task A_fetch_job_whose_provider_fails_every_attempt_fails_and_its_callback_reports_the_error()
    {
        await using var provider = new HttpReceiver { Answer = _ => (503, "") };
        await provider.StartAsync();
        await using var receiver = new HttpReceiver();
        await receiver.StartAsync();
        await using var app = StartApp(("Jobs:Providers:flaky", provider.Url("/data")), ("Jobs:FetchMaxAttempts", "3"));
        var api = new JobsClient(app.CreateClient());

        var (status, created) = await PostAsync(api, "/jobs/fetch", new { provider = "flaky", callbackUrl = receiver.Url("/fetched") });
        status.ShouldBe(HttpStatusCode.Accepted, created.ToJsonString());
        var id = created["id"]!.GetValue<string>();

        var job = await api.WaitForFinalAsync(id, Generous);
        JobsClient.Status(job).ShouldBe("failed", job.ToJsonString());
        job["error"]!.GetValue<string>().ShouldContain("failed 3 times");
        job["fetch"]!["providerCalls"]!.GetValue<int>().ShouldBe(3);
        provider.Received.Count.ShouldBe(3);

        var received = await receiver.WaitForAsync(r => r.Path == "/fetched", Generous);
        var body = JsonNode.Parse(received.Body)!.AsObject();
        (body["status"]!.GetValue<string>(), body["id"]!.GetValue<string>()).ShouldBe(("failed", id));
        body["error"]!.GetValue<string>().ShouldContain("503");
    }

    [Fact]
    public async Task A_fetch_job_whose_provider_resolves_to_a_refused_address_fails_at_once_without_calling_it_and_names_the_address()
    {
        await using var provider = new HttpReceiver();
        await provider.StartAsync();
        await using var receiver = new HttpReceiver();
        await receiver.StartAsync();
        // Provider calls get a documentation network only (TEST-NET-2): loopback stays closed to them, while callbacks
        // (their own key) may still reach the loopback receiver.
        await using var app = StartApp(
            ("Jobs:Providers:internal", $"http://localhost:{provider.Port}/data"),
            ("Jobs:FetchAllowedNetworks:0", "198.51.100.0/24"),
            ("Jobs:FetchMaxAttempts", "5"));
        var api = new JobsClient(app.CreateClient());

        var (status, created) = await PostAsync(api, "/jobs/fetch", new { provider = "internal", callbackUrl = receiver.Url("/refused") });
        status.ShouldBe(HttpStatusCode.Accepted, created.ToJsonString());
        var id = created["id"]!.GetValue<string>();

        var job = await api.WaitForFinalAsync(id, Generous);
        JobsClient.Status(job).ShouldBe("failed", job.ToJsonString());
        var error = job["error"]!.GetValue<string>();
        error.ShouldContain("The provider 'internal' is refused: localhost resolves to");
        error.ShouldContain("is not allowed: loopback");
        error.ShouldContain("Jobs:FetchAllowedNetworks");
        job["fetch"]!["providerCalls"]!.GetValue<int>().ShouldBe(1);
        provider.Received.ShouldBeEmpty();

        var received = await receiver.WaitForAsync(r => r.Path == "/refused", Generous);
        JsonNode.Parse(received.Body)!["status"]!.GetValue<string>().ShouldBe("failed");
    }

    [Fact]
    public async Task A_job_callback_that_always_fails_is_dead_lettered_and_the_retry_endpoint_delivers_it_once_the_receiver_works()
    {
        await using var receiver = new HttpReceiver { Answer = _ => (502, "") };
        await receiver.StartAsync();
        await using var app = StartApp(("Callbacks:MaxAttempts", "2"));
        var api = new JobsClient(app.CreateClient());

        var (_, created) = await PostAsync(api, "/jobs/budget", new { daysOnline = 2, budget = 1m, callbackUrl = receiver.Url("/dead") });
        var id = created["id"]!.GetValue<string>();

        // Not dead-lettered yet (waiting or pending): nothing to retry.
        var early = await api.Http.PostAsync($"/jobs/{id}/callback/retry", content: null, Token);
        early.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        early.Dispose();

        var dead = await api.WaitForAsync(id, j => CallbackState(j) == "dead_lettered", Generous);
        dead["callback"]!["attempts"]!.GetValue<int>().ShouldBe(2);
        dead["callback"]!["lastStatusCode"]!.GetValue<int>().ShouldBe(502);

        receiver.Answer = _ => (200, "");
        using var retry = await api.Http.PostAsync($"/jobs/{id}/callback/retry", content: null, Token);
        retry.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var delivered = await api.WaitForAsync(id, j => CallbackState(j) == "delivered", Generous);
        delivered["callback"]!["rearmed"]!.GetValue<int>().ShouldBe(1);
        receiver.Received.Count.ShouldBe(3);
    }

    [Fact]
    public async Task An_unknown_provider_a_missing_callback_url_and_a_host_outside_the_allow_list_are_400s_naming_the_field()
    {
        await using var app = StartApp(("Jobs:Providers:weather", "http://127.0.0.1:9/weather"));
        var api = new JobsClient(app.CreateClient());

        var (status, problem) = await PostAsync(api, "/jobs/fetch", new { provider = "http://127.0.0.1:9/anything", callbackUrl = "http://127.0.0.1:9/cb" });
        status.ShouldBe(HttpStatusCode.BadRequest);
        problem["errors"]!.AsObject().Select(e => e.Key).ShouldBe(["provider"]);
        problem["errors"]!["provider"]![0]!.GetValue<string>().ShouldContain("configured providers: weather");

        (status, problem) = await PostAsync(api, "/jobs/fetch", new { provider = "weather" });
        status.ShouldBe(HttpStatusCode.BadRequest);
        problem["errors"]!.AsObject().Select(e => e.Key).ShouldBe(["callbackUrl"]);

        (status, problem) = await PostAsync(api, "/jobs/fetch", new { provider = "weather", callbackUrl = "https://elsewhere.test/cb" });
        status.ShouldBe(HttpStatusCode.BadRequest);
        problem["errors"]!["callbackUrl"]![0]!.GetValue<string>().ShouldContain("allowed hosts");

        (status, problem) = await PostAsync(api, "/jobs/budget", new { daysOnline = 1, budget = 1m, callbackUrl = "http://10.1.2.3/cb" });
        status.ShouldBe(HttpStatusCode.BadRequest);
        problem["errors"]!.AsObject().Select(e => e.Key).ShouldBe(["callbackUrl"]);
    }

    [Fact]
    public async Task Status_shows_the_cpu_and_io_lanes_with_bound_use_and_waiting()
    {
        await using var app = StartApp(("Lanes:Cpu", "2"), ("Lanes:Io", "33"));
        var api = new JobsClient(app.CreateClient());

        var lanes = (await api.StatusAsync())["lanes"]!.AsObject();

        (lanes["cpu"]!["bound"]!.GetValue<int>(), lanes["io"]!["bound"]!.GetValue<int>()).ShouldBe((2, 33));
        (lanes["cpu"]!["inUse"]!.GetValue<int>(), lanes["cpu"]!["waiting"]!.GetValue<int>()).ShouldBe((0, 0));
    }
}
