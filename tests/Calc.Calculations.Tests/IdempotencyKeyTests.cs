using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Calc.Testing;

namespace Calc.Calculations.Tests;

/// <summary>
/// POST /calculations with an <c>Idempotency-Key</c>: a repeat answers the first one's calculation, a different body
/// is refused, a malformed key is a 400, and concurrent repeats on two instances of one database make one calculation.
/// </summary>
public sealed class IdempotencyKeyTests(PostgresServer postgres)
{
    private const string Header = "Idempotency-Key";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static async Task<(HttpStatusCode Status, JsonObject Body, HttpResponseMessage Response)> CreateAsync(HttpClient http, string? key, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/calculations") { Content = JsonContent.Create(body) };
        if (key is not null)
        {
            request.Headers.TryAddWithoutValidation(Header, key);
        }

        var response = await http.SendAsync(request, Token);
        var text = await response.Content.ReadAsStringAsync(Token);
        return (response.StatusCode, JsonNode.Parse(text)!.AsObject(), response);
    }

    private static async Task<long> CountAsync(HttpClient http) =>
        (await http.GetFromJsonAsync<JsonObject>("/calculations?pageSize=100", Token))!["total"]!.GetValue<long>();

    [Fact]
    public async Task The_same_key_and_body_again_returns_the_same_calculation_with_201_in_its_current_state_marked_replayed()
    {
        await using var app = await CalculationsApp.OnPostgresAsync(postgres);
        var http = app.CreateClient();
        var api = new CalculationsClient(http);
        var body = new { type = "addition", init = 39, callbackUrl = "https://hooks.example.com/calc" };

        var (firstStatus, first, firstResponse) = await CreateAsync(http, "order-7-attempt", body);
        using (firstResponse)
        {
            firstStatus.ShouldBe(HttpStatusCode.Created, first.ToJsonString());
            firstResponse.Headers.Contains("Idempotent-Replayed").ShouldBeFalse();
        }

        var id = first["id"]!.GetValue<string>();
        await api.AddTermAsync(id, 12);

        var (againStatus, again, againResponse) = await CreateAsync(http, "order-7-attempt", body);
        using (againResponse)
        {
            againStatus.ShouldBe(HttpStatusCode.Created, again.ToJsonString());
            againResponse.Headers.Location!.ToString().ShouldBe($"/calculations/{id}");
            againResponse.Headers.GetValues("Idempotent-Replayed").ShouldBe(["true"]);
        }

        again["id"]!.GetValue<string>().ShouldBe(id);
        again["termCount"]!.GetValue<int>().ShouldBe(1, "the calculation as it is now, not as it was created");
        again["callback"].ShouldNotBeNull();
        (await CountAsync(http)).ShouldBe(1);
    }

    [Fact]
    public async Task The_same_key_with_a_different_body_is_a_422_problem_and_makes_nothing()
    {
        await using var app = await CalculationsApp.OnPostgresAsync(postgres);
        var http = app.CreateClient();

        var (status, _, first) = await CreateAsync(http, "reused-key", new { type = "addition", init = 1 });
        first.Dispose();
        status.ShouldBe(HttpStatusCode.Created);
        var (refusedStatus, problem, refused) = await CreateAsync(http, "reused-key", new { type = "addition", init = 2 });
        refused.Dispose();

        refusedStatus.ShouldBe(HttpStatusCode.UnprocessableEntity, problem.ToJsonString());
        problem["title"]!.GetValue<string>().ShouldBe("Idempotency-Key reused");
        (await CountAsync(http)).ShouldBe(1);
    }

    [Fact]
    public async Task Without_a_key_two_equal_creates_make_two_calculations()
    {
        await using var app = await CalculationsApp.OnPostgresAsync(postgres);
        var http = app.CreateClient();

        var (_, first, a) = await CreateAsync(http, null, new { type = "addition", init = 1 });
        var (_, second, b) = await CreateAsync(http, null, new { type = "addition", init = 1 });
        a.Dispose();
        b.Dispose();

        second["id"]!.GetValue<string>().ShouldNotBe(first["id"]!.GetValue<string>());
        (await CountAsync(http)).ShouldBe(2);
    }

    public static TheoryData<string> MalformedKeys() => new()
    {
        new string('k', 256),
        "schlüssel",
        "tab\there",
        "nul\0byte",
    };

    [Theory]
    [MemberData(nameof(MalformedKeys))]
    public async Task A_malformed_key_is_a_400_naming_Idempotency_Key_and_makes_nothing(string key)
    {
        await using var app = await CalculationsApp.OnPostgresAsync(postgres);
        var http = app.CreateClient();

        var (status, problem, response) = await CreateAsync(http, key, new { type = "addition", init = 1 });
        response.Dispose();

        status.ShouldBe(HttpStatusCode.BadRequest, problem.ToJsonString());
        CalculationsClient.FieldErrors(problem).ShouldContainKey(Header);
        (await CountAsync(http)).ShouldBe(0);
    }

    [Fact]
    public async Task A_key_sent_twice_in_one_request_is_a_400_and_the_longest_allowed_key_is_accepted()
    {
        await using var app = await CalculationsApp.OnPostgresAsync(postgres, ("Idempotency:MaxKeyLength", "8"));
        var http = app.CreateClient();

        using var twice = new HttpRequestMessage(HttpMethod.Post, "/calculations") { Content = JsonContent.Create(new { type = "addition", init = 1 }) };
        twice.Headers.TryAddWithoutValidation(Header, ["one", "two"]);
        using var refused = await http.SendAsync(twice, Token);
        CalculationsClient.FieldErrors(await CalculationsClient.ReadAsync(refused, HttpStatusCode.BadRequest)).ShouldContainKey(Header);

        var (tooLong, _, a) = await CreateAsync(http, "123456789", new { type = "addition", init = 1 });
        var (longest, _, b) = await CreateAsync(http, "12345678", new { type = "addition", init = 1 });
        a.Dispose();
        b.Dispose();
        tooLong.ShouldBe(HttpStatusCode.BadRequest);
        longest.ShouldBe(HttpStatusCode.Created);
    }

    [Fact]
    public async Task A_key_is_free_again_after_its_lifetime_and_then_makes_a_new_calculation()
    {
        await using var app = await CalculationsApp.OnPostgresAsync(postgres, ("Idempotency:KeyLifetime", "00:00:01"));
        var http = app.CreateClient();

        var (_, first, a) = await CreateAsync(http, "short-lived", new { type = "addition", init = 1 });
        a.Dispose();
        await Task.Delay(TimeSpan.FromSeconds(1.5), Token);
        var (status, later, b) = await CreateAsync(http, "short-lived", new { type = "addition", init = 2 });
        b.Dispose();

        status.ShouldBe(HttpStatusCode.Created, later.ToJsonString());
        later["id"]!.GetValue<string>().ShouldNotBe(first["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Concurrent_creates_with_one_key_on_two_instances_of_one_database_make_one_calculation()
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        (string, string?)[] database = [("Database:Provider", "postgres"), ("Database:ConnectionString", connectionString)];
        await using var first = new CalculationsApp(Settings(database));
        await using var second = new CalculationsApp(Settings(database));
        var clients = new[] { first.CreateClient(), second.CreateClient() };
        await CountAsync(clients[0]); // Both started (and their tables made) before the race.
        await CountAsync(clients[1]);

        for (var round = 0; round < 5; round++)
        {
            var key = $"race-{round}";
            var body = new { type = "multiplication", init = round, callbackUrl = "https://hooks.example.com/race" };
            var answers = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Task.Run(async () =>
            {
                var (status, created, response) = await CreateAsync(clients[i % 2], key, body);
                response.Dispose();
                status.ShouldBe(HttpStatusCode.Created, created.ToJsonString());
                return created["id"]!.GetValue<string>();
            }, Token)));

            answers.Distinct().Count().ShouldBe(1, string.Join(", ", answers));
        }

        (await CountAsync(clients[0])).ShouldBe(5);
    }

    private static Dictionary<string, string?> Settings((string Key, string? Value)[] database)
    {
        var all = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in database)
        {
            all[key] = value;
        }

        return all;
    }
}
