using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Calc.Testing;

namespace Calc.Calculations.Tests;

/// <summary>
/// PUT /calculations/{id} appends a term, so a PUT sent again (by the gateway, on another instance) would add it twice.
/// With an <c>Idempotency-Key</c> the repeat adds nothing and answers the calculation as it is; the key with another
/// term is a 422; a malformed key is a 400; without a key every PUT adds its term, as before.
/// </summary>
public sealed class TermIdempotencyKeyTests(PostgresServer postgres) : IDisposable
{
    private const string Header = "Idempotency-Key";

    private readonly TempDirectory _directory = new();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public void Dispose() => _directory.Dispose();

    private static async Task<(HttpStatusCode Status, JsonObject Body, bool Replayed)> PutTermAsync(HttpClient http, string id, string? key, object term)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/calculations/{id}") { Content = JsonContent.Create(new { term }) };
        if (key is not null)
        {
            request.Headers.TryAddWithoutValidation(Header, key);
        }

        using var response = await http.SendAsync(request, Token);
        var text = await response.Content.ReadAsStringAsync(Token);
        return (response.StatusCode, JsonNode.Parse(text)!.AsObject(), response.Headers.Contains("Idempotent-Replayed"));
    }

    private async Task<CalculationsApp> AppAsync(string provider) =>
        provider == "sqlite" ? CalculationsApp.OnSqlite(_directory) : await CalculationsApp.OnPostgresAsync(postgres);

    [Theory]
    [InlineData("postgres")]
    [InlineData("sqlite")]
    public async Task The_same_key_twice_adds_the_term_once_and_the_repeat_answers_200_with_the_current_state(string provider)
    {
        await using var app = await AppAsync(provider);
        var http = app.CreateClient();
        var api = new CalculationsClient(http);
        var id = await api.CreateIdAsync(new { type = "addition", init = 10 });

        var (firstStatus, first, firstReplayed) = await PutTermAsync(http, id, "term-a", 12);
        firstStatus.ShouldBe(HttpStatusCode.OK, first.ToJsonString());
        first["termCount"]!.GetValue<int>().ShouldBe(1);
        firstReplayed.ShouldBeFalse();

        var (againStatus, again, againReplayed) = await PutTermAsync(http, id, "term-a", 12);
        againStatus.ShouldBe(HttpStatusCode.OK, again.ToJsonString());
        again["termCount"]!.GetValue<int>().ShouldBe(1, "the repeat added nothing");
        againReplayed.ShouldBeTrue();

        // Another key adds its term; the first key's repeat still adds nothing, also once the calculation is final.
        (await PutTermAsync(http, id, "term-b", 12)).Body["termCount"]!.GetValue<int>().ShouldBe(2);
        (await PutTermAsync(http, id, "term-a", 12)).Body["termCount"]!.GetValue<int>().ShouldBe(2);
        using (var finalize = await api.FinalizeAsync(id))
        {
            finalize.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        }

        var done = await api.WaitForFinalAsync(id);
        done["result"]!.GetValue<long>().ShouldBe(34);
        var (lateStatus, late, _) = await PutTermAsync(http, id, "term-b", 12);
        lateStatus.ShouldBe(HttpStatusCode.OK, late.ToJsonString());
        late["status"]!.GetValue<string>().ShouldBe("done");
        (await api.GetAsync(id))["result"]!.GetValue<long>().ShouldBe(34);
    }

    [Fact]
    public async Task The_same_key_with_a_different_term_is_a_422_problem_and_adds_nothing()
    {
        await using var app = await AppAsync("postgres");
        var http = app.CreateClient();
        var api = new CalculationsClient(http);
        var id = await api.CreateIdAsync(new { type = "addition", init = 1 });
        (await PutTermAsync(http, id, "reused", 5)).Status.ShouldBe(HttpStatusCode.OK);

        var (status, problem, _) = await PutTermAsync(http, id, "reused", 6);

        status.ShouldBe(HttpStatusCode.UnprocessableEntity, problem.ToJsonString());
        problem["title"]!.GetValue<string>().ShouldBe("Idempotency-Key reused");
        (await api.GetAsync(id))["termCount"]!.GetValue<int>().ShouldBe(1);
    }

    [Theory]
    [MemberData(nameof(IdempotencyKeyTests.MalformedKeys), MemberType = typeof(IdempotencyKeyTests))]
    public async Task A_malformed_key_on_a_term_is_a_400_naming_Idempotency_Key_and_adds_nothing(string key)
    {
        await using var app = await AppAsync("postgres");
        var http = app.CreateClient();
        var api = new CalculationsClient(http);
        var id = await api.CreateIdAsync(new { type = "addition", init = 1 });

        var (status, problem, _) = await PutTermAsync(http, id, key, 5);

        status.ShouldBe(HttpStatusCode.BadRequest, problem.ToJsonString());
        CalculationsClient.FieldErrors(problem).ShouldContainKey(Header);
        (await api.GetAsync(id))["termCount"]!.GetValue<int>().ShouldBe(0);
    }

    [Fact]
    public async Task Without_a_key_two_equal_PUTs_add_the_term_twice()
    {
        await using var app = await AppAsync("postgres");
        var http = app.CreateClient();
        var api = new CalculationsClient(http);
        var id = await api.CreateIdAsync(new { type = "addition", init = 1 });

        (await PutTermAsync(http, id, null, 5)).Body["termCount"]!.GetValue<int>().ShouldBe(1);
        (await PutTermAsync(http, id, null, 5)).Body["termCount"]!.GetValue<int>().ShouldBe(2);
        using (var finalize = await api.FinalizeAsync(id))
        {
            finalize.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        }

        (await api.WaitForFinalAsync(id))["result"]!.GetValue<long>().ShouldBe(11);
    }

    [Fact]
    public async Task Concurrent_PUTs_with_one_key_on_two_instances_of_one_database_add_the_term_once()
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        var database = new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Warning",
            ["Database:Provider"] = "postgres",
            ["Database:ConnectionString"] = connectionString,
        };
        await using var first = new CalculationsApp(database);
        await using var second = new CalculationsApp(database);
        var clients = new[] { first.CreateClient(), second.CreateClient() };
        var id = await new CalculationsClient(clients[0]).CreateIdAsync(new { type = "addition", init = 0 });
        await new CalculationsClient(clients[1]).GetAsync(id); // Both started before the race.

        for (var round = 0; round < 5; round++)
        {
            var key = $"race-{round}";
            var answers = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Task.Run(() => PutTermAsync(clients[i % 2], id, key, 7), Token)));
            answers.ShouldAllBe(a => a.Status == HttpStatusCode.OK);
            answers.Count(a => !a.Replayed).ShouldBe(1, "one of the PUTs added the term, the others found its key");
        }

        (await new CalculationsClient(clients[0]).GetAsync(id))["termCount"]!.GetValue<int>().ShouldBe(5);
    }
}
