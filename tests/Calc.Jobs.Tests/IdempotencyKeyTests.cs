using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Calc.Testing;

namespace Calc.Jobs.Tests;

/// <summary>
/// POST /jobs/budget and /jobs/fetch with an <c>Idempotency-Key</c>: a repeat answers the first one's job (202, as the
/// first), a different request with the key is refused, concurrent repeats on two instances make one job, and a bulk
/// upload refuses the header.
/// </summary>
public sealed class IdempotencyKeyTests : IDisposable
{
    private const string Header = "Idempotency-Key";

    private readonly TempDirectory _directory = new();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public void Dispose() => _directory.Dispose();

    private static async Task<(HttpStatusCode Status, JsonObject Body, bool Replayed)> PostAsync(HttpClient http, string path, string? key, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        if (key is not null)
        {
            request.Headers.TryAddWithoutValidation(Header, key);
        }

        using var response = await http.SendAsync(request, Token);
        var text = await response.Content.ReadAsStringAsync(Token);
        return (response.StatusCode, JsonNode.Parse(text)!.AsObject(), response.Headers.Contains("Idempotent-Replayed"));
    }

    private static async Task<long> CountAsync(HttpClient http) =>
        (await http.GetFromJsonAsync<JsonObject>("/jobs?pageSize=100", Token))!["total"]!.GetValue<long>();

    [Fact]
    public async Task A_budget_job_sent_again_with_its_key_is_answered_202_with_the_same_job_as_it_is_now()
    {
        await using var app = new JobsApp(_directory);
        var http = app.CreateClient();
        var api = new JobsClient(http);
        var body = new { daysOnline = 3, budget = 100.00m };

        var (status, first, firstReplayed) = await PostAsync(http, "/jobs/budget", "budget-key-1", body);
        status.ShouldBe(HttpStatusCode.Accepted, first.ToJsonString());
        firstReplayed.ShouldBeFalse();
        var id = first["id"]!.GetValue<string>();
        await api.WaitForFinalAsync(id);

        var (againStatus, again, replayed) = await PostAsync(http, "/jobs/budget", "budget-key-1", body);

        againStatus.ShouldBe(HttpStatusCode.Accepted, again.ToJsonString());
        replayed.ShouldBeTrue();
        again["id"]!.GetValue<string>().ShouldBe(id);
        JobsClient.Status(again).ShouldBe("done");
        (await CountAsync(http)).ShouldBe(1);
    }

    [Fact]
    public async Task The_same_key_with_a_different_body_or_on_the_other_kind_of_job_is_a_422_and_makes_nothing()
    {
        await using var app = new JobsApp(_directory, ("Jobs:Providers:weather", "http://127.0.0.1:9/never-called"));
        var http = app.CreateClient();

        (await PostAsync(http, "/jobs/budget", "one-key", new { daysOnline = 1, budget = 5m })).Status.ShouldBe(HttpStatusCode.Accepted);
        var (otherBody, problem, _) = await PostAsync(http, "/jobs/budget", "one-key", new { daysOnline = 1, budget = 6m });
        var (otherKind, _, _) = await PostAsync(http, "/jobs/fetch", "one-key", new { provider = "weather", callbackUrl = "https://hooks.example.com/f" });

        otherBody.ShouldBe(HttpStatusCode.UnprocessableEntity, problem.ToJsonString());
        problem["title"]!.GetValue<string>().ShouldBe("Idempotency-Key reused");
        otherKind.ShouldBe(HttpStatusCode.UnprocessableEntity);
        (await CountAsync(http)).ShouldBe(1);
    }

    [Fact]
    public async Task A_fetch_job_sent_again_with_its_key_is_the_same_job()
    {
        // The worker waits before each job, so the fetch is never made while the test runs.
        await using var app = new JobsApp(_directory, ("Jobs:Providers:weather", "http://127.0.0.1:9/never-called"), ("Jobs:ProcessingDelayMilliseconds", "60000"));
        var http = app.CreateClient();
        var body = new { provider = "weather", callbackUrl = "https://hooks.example.com/f" };

        var (status, first, _) = await PostAsync(http, "/jobs/fetch", "fetch-key", body);
        var (againStatus, again, replayed) = await PostAsync(http, "/jobs/fetch", "fetch-key", body);

        status.ShouldBe(HttpStatusCode.Accepted, first.ToJsonString());
        againStatus.ShouldBe(HttpStatusCode.Accepted, again.ToJsonString());
        replayed.ShouldBeTrue();
        again["id"]!.GetValue<string>().ShouldBe(first["id"]!.GetValue<string>());
        again["kind"]!.GetValue<string>().ShouldBe("fetch");
        (await CountAsync(http)).ShouldBe(1);
    }

    [Fact]
    public async Task A_jobId_made_by_another_request_stays_a_409_with_or_without_a_key_and_its_own_key_replays_it()
    {
        // The worker waits before each job, so the callback is never posted while the test runs.
        await using var app = new JobsApp(_directory, ("Jobs:ProcessingDelayMilliseconds", "60000"));
        var http = app.CreateClient();
        var body = new { jobId = "campaign-9", daysOnline = 1, budget = 1m, callbackUrl = "https://hooks.example.com/j" };

        (await PostAsync(http, "/jobs/budget", "owner-key", body)).Status.ShouldBe(HttpStatusCode.Accepted);

        var (replay, replayed, wasReplay) = await PostAsync(http, "/jobs/budget", "owner-key", body);
        replay.ShouldBe(HttpStatusCode.Accepted);
        wasReplay.ShouldBeTrue();
        replayed["id"]!.GetValue<string>().ShouldBe("campaign-9");
        (await PostAsync(http, "/jobs/budget", "someone-else", body)).Status.ShouldBe(HttpStatusCode.Conflict);
        (await PostAsync(http, "/jobs/budget", null, body)).Status.ShouldBe(HttpStatusCode.Conflict);
        (await new JobsClient(http).GetAsync("campaign-9"))["callback"].ShouldNotBeNull("the refused requests left the job's delivery alone");
    }

    [Fact]
    public async Task A_malformed_key_is_a_400_naming_Idempotency_Key()
    {
        await using var app = new JobsApp(_directory);
        var http = app.CreateClient();

        var (status, problem, _) = await PostAsync(http, "/jobs/budget", new string('x', 256), new { daysOnline = 1, budget = 1m });

        status.ShouldBe(HttpStatusCode.BadRequest, problem.ToJsonString());
        problem["errors"]![Header].ShouldNotBeNull();
        (await CountAsync(http)).ShouldBe(0);
    }

    [Fact]
    public async Task A_bulk_upload_with_a_key_is_refused_with_a_400_naming_Idempotency_Key_and_queues_nothing()
    {
        await using var app = new JobsApp(_directory);
        var http = app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/jobs/budget/bulk")
        {
            Content = new StringContent("daysOnline,budget\n1,1.00\n", Encoding.UTF8, "text/csv"),
        };
        request.Headers.Add(Header, "bulk-key");

        using var response = await http.SendAsync(request, Token);
        var problem = await JobsClient.ReadAsync(response, HttpStatusCode.BadRequest);

        problem["errors"]![Header]![0]!.GetValue<string>().ShouldContain("bulk");
        (await CountAsync(http)).ShouldBe(0);
    }

    [Fact]
    public async Task Concurrent_creates_with_one_key_on_two_instances_of_one_database_make_one_job()
    {
        // The workers wait before each job, so no job ends and no callback is posted while the test runs.
        await using var first = new JobsApp(_directory, ("Jobs:ProcessingDelayMilliseconds", "60000"));
        await using var second = new JobsApp(_directory, ("Jobs:ProcessingDelayMilliseconds", "60000"));
        var clients = new[] { first.CreateClient(), second.CreateClient() };
        await CountAsync(clients[0]);
        await CountAsync(clients[1]);

        for (var round = 0; round < 5; round++)
        {
            var body = new { daysOnline = 2, budget = 10m + round, callbackUrl = "https://hooks.example.com/race" };
            var answers = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Task.Run(async () =>
            {
                var (status, job, _) = await PostAsync(clients[i % 2], "/jobs/budget", $"race-{round}", body);
                status.ShouldBe(HttpStatusCode.Accepted, job.ToJsonString());
                return job["id"]!.GetValue<string>();
            }, Token)));

            answers.Distinct().Count().ShouldBe(1, string.Join(", ", answers));
        }

        (await CountAsync(clients[0])).ShouldBe(5);
    }
}
