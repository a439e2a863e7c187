using System.Net;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text;
using Calc.Testing;
using Newtonsoft.Json.Linq;
using Snapshooter;
using Snapshooter.Xunit3;

namespace Calc.Jobs.Tests;

/// <summary>
/// The public contract held still: the README's route table against the endpoints the app maps (all of them for the
/// API role, /status alone for a worker), the OpenAPI document and the problem body of each kind of error, as
/// reviewed snapshots (__snapshots__/ beside this file; the test command sets SNAPSHOOTER_STRICT_MODE=true).
/// </summary>
public sealed class ContractTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task The_README_route_table_lists_exactly_the_endpoints_the_app_maps()
    {
        await using var app = new JobsApp(_directory);
        _ = app.Server;

        var mapped = ServiceContract.MappedRoutes(app.Services);

        mapped.ShouldNotBeEmpty();
        ServiceContract.ReadmeRoutes("services/Calc.Jobs/README.md").ShouldBe(mapped);
    }

    [Fact]
    public async Task A_worker_maps_only_the_status_endpoint()
    {
        await using var app = new JobsApp(_directory, ("Role", "worker"));
        _ = app.Server;

        ServiceContract.MappedRoutes(app.Services).ShouldBe([new RouteRow("GET", "/status", "GetStatus")]);
    }

    [Fact]
    public async Task The_OpenAPI_document_matches_its_snapshot()
    {
        await using var app = new JobsApp(_directory);
        var document = await app.CreateClient().GetStringAsync("/openapi/v1.json", Token);

        Match(JToken.Parse(document));
    }

    [Fact]
    public async Task A_field_that_fails_validation_is_a_400_validation_problem()
    {
        await using var app = new JobsApp(_directory);
        using var response = await app.CreateClient().PostAsJsonAsync("/jobs/budget", new { jobId = "no spaces", daysOnline = 0, budget = 1.234m }, Token);

        await MatchProblemAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task A_body_that_is_not_json_is_a_400_naming_body()
    {
        await using var app = new JobsApp(_directory);
        using var content = new StringContent("{\"daysOnline\":", Encoding.UTF8, "application/json");
        using var response = await app.CreateClient().PostAsync("/jobs/budget", content, Token);

        await MatchProblemAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task An_unknown_job_is_a_404()
    {
        await using var app = new JobsApp(_directory);
        using var response = await app.CreateClient().GetAsync("/jobs/no-such-job", Token);

        await MatchProblemAsync(response, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_job_id_in_use_is_a_409()
    {
        await using var app = new JobsApp(_directory);
        var http = app.CreateClient();
        (await http.PostAsJsonAsync("/jobs/budget", new { jobId = "taken", daysOnline = 1, budget = 1m }, Token)).StatusCode.ShouldBe(HttpStatusCode.Accepted);

        using var response = await http.PostAsJsonAsync("/jobs/budget", new { jobId = "taken", daysOnline = 1, budget = 1m }, Token);

        await MatchProblemAsync(response, HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task A_bulk_upload_past_its_byte_limit_is_a_413()
    {
        await using var app = new JobsApp(_directory, ("Jobs:MaxBulkBytes", "100"));
        using var content = new StringContent("daysOnline,budget\n" + string.Concat(Enumerable.Repeat("1,1.00\n", 50)), Encoding.UTF8, "text/csv");
        using var response = await app.CreateClient().PostAsync("/jobs/budget/bulk", content, Token);

        await MatchProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task An_idempotency_key_reused_for_another_request_is_a_422()
    {
        await using var app = new JobsApp(_directory);
        var http = app.CreateClient();
        using (var first = Keyed(new { daysOnline = 1, budget = 1m }))
        {
            (await http.SendAsync(first, Token)).StatusCode.ShouldBe(HttpStatusCode.Accepted);
        }

        using var second = Keyed(new { daysOnline = 2, budget = 1m });
        using var response = await http.SendAsync(second, Token);

        await MatchProblemAsync(response, HttpStatusCode.UnprocessableEntity);
    }

    [Fact]
    public async Task A_full_queue_is_a_503_with_Retry_After()
    {
        await using var app = new JobsApp(_directory,
            ("Jobs:ProcessingDelayMilliseconds", "30000"), ("Jobs:MaxQueued", "2"), ("Jobs:ReservedHighQueued", "1"),
            ("Capacity:Slots", "1"), ("Capacity:ReservedHigh", "0"), ("Capacity:RetryAfterSeconds", "7"));
        var api = new JobsClient(app.CreateClient());
        var running = await api.CreateBudgetAsync(new { daysOnline = 1, budget = 1m });
        await api.WaitForAsync(running, j => JobsClient.Status(j) == "processing");
        await api.CreateBudgetAsync(new { daysOnline = 1, budget = 1m });

        using var response = await api.Http.PostAsJsonAsync("/jobs/budget", new { daysOnline = 1, budget = 1m }, Token);

        response.Headers.RetryAfter!.Delta.ShouldBe(TimeSpan.FromSeconds(7));
        await MatchProblemAsync(response, HttpStatusCode.ServiceUnavailable);
    }

    private static HttpRequestMessage Keyed(object body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/jobs/budget") { Content = JsonContent.Create(body) };
        request.Headers.Add("Idempotency-Key", "contract-test-key");
        return request;
    }

    private static async Task MatchProblemAsync(HttpResponseMessage response, HttpStatusCode expected, [CallerMemberName] string caller = "")
    {
        var problem = await JobsClient.ReadAsync(response, expected);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        Match(JToken.Parse(ServiceContract.Normalized(problem).ToJsonString()), caller);
    }

    // The caller's name is the snapshot's name, in __snapshots__/ beside this file.
    private static void Match(JToken value, [CallerMemberName] string caller = "") =>
        Snapshot.Match(value, new SnapshotFullName($"{nameof(ContractTests)}.{caller}.snap", SourceDirectory()));

    private static string SourceDirectory([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}
