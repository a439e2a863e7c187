using System.Net;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text;
using Calc.Testing;
using Newtonsoft.Json.Linq;
using Snapshooter;
using Snapshooter.Xunit3;

namespace Calc.Calculations.Tests;

/// <summary>
/// The public contract held still: the README's route table against the endpoints the app maps, the OpenAPI document
/// and the problem body of each kind of error, as reviewed snapshots (__snapshots__/ beside this file; the test
/// command sets SNAPSHOOTER_STRICT_MODE=true, so a missing snapshot fails instead of being written).
/// </summary>
public sealed class ContractTests : IAsyncLifetime
{
    private readonly TempDirectory _directory = new();
    private CalculationsApp _app = null!;
    private CalculationsClient _api = null!;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        _app = CalculationsApp.OnSqlite(_directory);
        _api = new CalculationsClient(_app.CreateClient());
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        _directory.Dispose();
    }

    [Fact]
    public void The_README_route_table_lists_exactly_the_endpoints_the_app_maps()
    {
        var mapped = ServiceContract.MappedRoutes(_app.Services);

        mapped.ShouldNotBeEmpty();
        ServiceContract.ReadmeRoutes("services/Calc.Calculations/README.md").ShouldBe(mapped);
    }

    [Fact]
    public async Task The_OpenAPI_document_matches_its_snapshot()
    {
        var document = await _api.Http.GetStringAsync("/openapi/v1.json", Token);

        Match(JToken.Parse(document));
    }

    [Fact]
    public async Task A_field_that_fails_validation_is_a_400_validation_problem()
    {
        using var response = await _api.Http.PostAsJsonAsync("/calculations", new { type = "modulo", init = 1, timeoutSeconds = 0 }, Token);

        await MatchProblemAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task A_body_that_is_not_json_is_a_400_naming_body()
    {
        using var content = new StringContent("{\"type\":", Encoding.UTF8, "application/json");
        using var response = await _api.Http.PostAsync("/calculations", content, Token);

        await MatchProblemAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task A_field_of_the_wrong_type_is_a_400_naming_it()
    {
        using var content = new StringContent("""{"type":"addition","init":1,"timeoutSeconds":"soon"}""", Encoding.UTF8, "application/json");
        using var response = await _api.Http.PostAsync("/calculations", content, Token);

        await MatchProblemAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task A_missing_body_is_a_400_naming_body()
    {
        using var response = await _api.Http.PostAsync("/calculations", content: null, Token);

        await MatchProblemAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task A_query_parameter_of_the_wrong_type_is_a_400_naming_it()
    {
        using var response = await _api.Http.GetAsync("/calculations?page=first", Token);

        await MatchProblemAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task A_body_that_is_not_json_by_its_content_type_is_a_415()
    {
        using var content = new StringContent("type=addition", Encoding.UTF8, "text/plain");
        using var response = await _api.Http.PostAsync("/calculations", content, Token);

        await MatchProblemAsync(response, HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task An_unknown_calculation_is_a_404()
    {
        using var response = await _api.Http.GetAsync("/calculations/no-such-calculation", Token);

        await MatchProblemAsync(response, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Cancelling_a_final_calculation_is_a_409()
    {
        var id = await _api.CreateIdAsync(new { type = "addition", init = 1 });
        await _api.CancelAsync(id);

        using var response = await _api.Http.DeleteAsync($"/calculations/{id}", Token);

        await MatchProblemAsync(response, HttpStatusCode.Conflict, id);
    }

    [Fact]
    public async Task An_idempotency_key_reused_for_another_request_is_a_422()
    {
        using (var first = Keyed(new { type = "addition", init = 1 }))
        {
            (await _api.Http.SendAsync(first, Token)).StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        using var second = Keyed(new { type = "addition", init = 2 });
        using var response = await _api.Http.SendAsync(second, Token);

        await MatchProblemAsync(response, HttpStatusCode.UnprocessableEntity);
    }

    private static HttpRequestMessage Keyed(object body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/calculations") { Content = JsonContent.Create(body) };
        request.Headers.Add("Idempotency-Key", "contract-test-key");
        return request;
    }

    private static async Task MatchProblemAsync(HttpResponseMessage response, HttpStatusCode expected, string? id = null, [CallerMemberName] string caller = "")
    {
        var problem = await CalculationsClient.ReadAsync(response, expected);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        var normalized = ServiceContract.Normalized(problem, id is null ? [] : [id]);
        Match(JToken.Parse(normalized.ToJsonString()), caller);
    }

    // The caller's name is the snapshot's name, in __snapshots__/ beside this file.
    private static void Match(JToken value, [CallerMemberName] string caller = "") =>
        Snapshot.Match(value, new SnapshotFullName($"{nameof(ContractTests)}.{caller}.snap", SourceDirectory()));

    private static string SourceDirectory([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}
