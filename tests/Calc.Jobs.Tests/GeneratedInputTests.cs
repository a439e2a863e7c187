using System.Globalization;
using System.Net;
using System.Text;
using Calc.Testing;

namespace Calc.Jobs.Tests;

/// <summary>
/// Requests generated with Bogus from each endpoint's fields (seeded: the failure message names the seed to replay
/// with CALC_TEST_SEED): every invalid one is a 4xx, a 400 naming its field when the fault is one field's, and no
/// request of any kind, valid or not, is answered with a 5xx.
/// </summary>
public sealed class GeneratedInputTests : IAsyncLifetime
{
    private static readonly FieldSpec JobId = new("jobId", FieldKind.Text) { Valid = f => f.Random.AlphaNumeric(12) };
    private static readonly FieldSpec Priority = new("priority", FieldKind.Choice) { Allowed = ["normal", "high"] };
    private static readonly FieldSpec Timeout = new("timeoutSeconds", FieldKind.WholeNumber) { Min = 1, Max = 3600 };

    private static readonly FieldSpec[] BudgetFields =
    [
        JobId,
        new("daysOnline", FieldKind.WholeNumber, Required: true) { Min = 1, Max = 3650 },
        new("budget", FieldKind.Money, Required: true) { Min = 1, Max = 1_000_000_000_000 },
        Priority,
        Timeout,
        new("callbackUrl", FieldKind.Text) { Valid = f => $"http://127.0.0.1:9/{f.Random.AlphaNumeric(6)}" },
    ];

    private static readonly FieldSpec[] FetchFields =
    [
        new("provider", FieldKind.Choice, Required: true) { Allowed = ["weather"] },
        new("callbackUrl", FieldKind.Text, Required: true) { Valid = f => $"http://127.0.0.1:9/{f.Random.AlphaNumeric(6)}" },
        JobId,
        Priority,
        Timeout,
    ];

    private readonly TempDirectory _directory = new();
    private readonly GeneratedRequests _requests = new(GeneratedRequests.DefaultSeed);
    private JobsApp _app = null!;
    private HttpClient _http = null!;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private string Replay => $"seed {_requests.Seed} (replay: CALC_TEST_SEED={_requests.Seed})";

    public ValueTask InitializeAsync()
    {
        _app = new JobsApp(_directory,
            ("Jobs:Providers:weather", "http://127.0.0.1:9/weather"),
            ("Jobs:FetchMaxAttempts", "1"),
            ("Callbacks:AllowedNetworks:0", "127.0.0.0/8"),
            ("Callbacks:MaxAttempts", "1"));
        _http = _app.CreateClient();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _app.DisposeAsync();
        _directory.Dispose();
    }

    [Fact]
    public async Task Generated_budget_jobs_are_answered_202_or_a_4xx_naming_the_field_and_never_a_5xx()
    {
        foreach (var request in _requests.For(BudgetFields, 250))
        {
            await _requests.SendAndCheckAsync(_http, HttpMethod.Post, "/jobs/budget", request, HttpStatusCode.Accepted, Token);
        }
    }

    [Fact]
    public async Task Generated_fetch_jobs_are_answered_202_or_a_4xx_naming_the_field_and_never_a_5xx()
    {
        foreach (var request in _requests.For(FetchFields, 200))
        {
            await _requests.SendAndCheckAsync(_http, HttpMethod.Post, "/jobs/fetch", request, HttpStatusCode.Accepted, Token);
        }
    }

    [Fact]
    public async Task Generated_bulk_uploads_are_answered_202_or_a_4xx_and_never_a_5xx()
    {
        var faker = _requests.Faker;
        string[] columns = ["jobId", "daysOnline", "budget", "priority", "timeoutSeconds", "callbackUrl", "colour"];
        for (var i = 0; i < 60; i++)
        {
            var header = faker.Random.Int(0, 9) == 0
                ? faker.Random.ListItems(columns.ToList())
                : ["daysOnline", "budget", .. faker.Random.ListItems(columns[..^1].Skip(2).Prepend("jobId").Distinct().ToList(), faker.Random.Int(0, 3))];
            var csv = new StringBuilder().AppendLine(string.Join(',', header));
            for (var row = faker.Random.Int(0, 20); row > 0; row--)
            {
                csv.AppendLine(string.Join(',', header.Select(c => Cell(c))));
            }

            if (faker.Random.Int(0, 9) == 0)
            {
                csv.Append(faker.Random.String2(faker.Random.Int(1, 50), "\"',\r\n;ab1"));
            }

            using var content = new StringContent(csv.ToString(), Encoding.UTF8, "text/csv");
            using var response = await _http.PostAsync("/jobs/budget/bulk", content, Token);
            var text = await response.Content.ReadAsStringAsync(Token);
            var what = $"{Replay}, upload #{i}: {csv.ToString()[..Math.Min(csv.Length, 300)]} -> {(int)response.StatusCode}: {text}";
            ((int)response.StatusCode).ShouldBeLessThan(500, what);
            response.StatusCode.ShouldBeOneOf([HttpStatusCode.Accepted, HttpStatusCode.BadRequest], what);
        }

        string Cell(string column) => faker.Random.Int(0, 4) == 0
            ? faker.PickRandom("", "x", "-1", "1.234", "\"quoted, cell\"", "99999999999999999999", new string('z', 300))
            : column switch
            {
                "daysOnline" => faker.Random.Int(1, 30).ToString(CultureInfo.InvariantCulture),
                "budget" => Math.Round(faker.Random.Decimal(1, 10_000), 2).ToString(CultureInfo.InvariantCulture),
                "priority" => faker.PickRandom("normal", "high"),
                "timeoutSeconds" => faker.Random.Int(1, 60).ToString(CultureInfo.InvariantCulture),
                "callbackUrl" => "http://127.0.0.1:9/cb",
                "jobId" => faker.Random.AlphaNumeric(10),
                _ => faker.Lorem.Word(),
            };
    }

    [Fact]
    public async Task Generated_list_queries_are_answered_200_or_a_400_naming_the_parameter_and_never_a_5xx()
    {
        var faker = _requests.Faker;
        for (var i = 0; i < 150; i++)
        {
            var (parameter, value, valid) = faker.Random.Int(0, 3) switch
            {
                0 => ("status", faker.PickRandom("queued", "processing", "DONE", "failed", "timed_out", "cancelled"), true),
                1 => ("status", faker.Lorem.Word() + faker.Random.AlphaNumeric(3), false),
                2 => (faker.PickRandom("page", "pageSize"), faker.Random.Int(1, 100).ToString(CultureInfo.InvariantCulture), true),
                _ => (faker.PickRandom("page", "pageSize"), faker.PickRandom("0", "-5", "abc", "2.5", "99999999999", new string('9', 300)), false),
            };
            await _requests.CheckQueryAsync(_http, $"/jobs?{parameter}={Uri.EscapeDataString(value)}", parameter, valid, Token);
        }
    }

    [Fact]
    public async Task Generated_ids_in_every_path_are_answered_404_and_never_a_5xx()
    {
        var faker = _requests.Faker;
        for (var i = 0; i < 100; i++)
        {
            var id = Uri.EscapeDataString(faker.Random.Int(0, 2) switch
            {
                0 => faker.Random.AlphaNumeric(faker.Random.Int(1, 64)),
                1 => faker.Random.String2(faker.Random.Int(1, 20), "äöü€漢字 '\"<>{}|\\^`"),
                _ => new string('y', faker.Random.Int(1000, 8000)),
            });
            var (method, path) = faker.Random.Int(0, 3) switch
            {
                0 => (HttpMethod.Get, $"/jobs/{id}"),
                1 => (HttpMethod.Delete, $"/jobs/{id}"),
                2 => (HttpMethod.Get, $"/jobs/batches/{id}"),
                _ => (HttpMethod.Post, $"/jobs/{id}/callback/retry"),
            };
            await _requests.CheckNotFoundAsync(_http, method, path, Token);
        }
    }
}
