using System.Net;
using System.Text;
using Calc.Testing;

namespace Calc.Calculations.Tests;

/// <summary>
/// Requests generated with Bogus from each endpoint's fields (seeded: the failure message names the seed to replay
/// with CALC_TEST_SEED): every invalid one is a 4xx, a 400 naming its field when the fault is one field's, and no
/// request of any kind, valid or not, is answered with a 5xx.
/// </summary>
public sealed class GeneratedInputTests : IAsyncLifetime
{
    private const int MaxDigits = 50;

    private static readonly FieldSpec[] CreateFields =
    [
        new("type", FieldKind.Choice, Required: true) { Allowed = ["addition", "subtraction", "multiplication", "division", "power"] },
        new("init", FieldKind.ExactInteger, Required: true) { MaxDigits = MaxDigits },
        new("priority", FieldKind.Choice) { Allowed = ["normal", "high"] },
        new("timeoutSeconds", FieldKind.WholeNumber) { Min = 1, Max = 3600 },
        new("callbackUrl", FieldKind.Text) { Valid = f => $"http://127.0.0.1:9/{f.Random.AlphaNumeric(6)}" },
    ];

    private static readonly FieldSpec[] TermFields = [new("term", FieldKind.ExactInteger, Required: true) { MaxDigits = MaxDigits }];

    private readonly TempDirectory _directory = new();
    private readonly GeneratedRequests _requests = new(GeneratedRequests.DefaultSeed);
    private CalculationsApp _app = null!;
    private HttpClient _http = null!;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        _app = CalculationsApp.OnSqlite(_directory,
            ("Calculations:MaxInputDigits", MaxDigits.ToString(System.Globalization.CultureInfo.InvariantCulture)),
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
    public async Task Generated_create_requests_are_answered_201_or_a_4xx_naming_the_field_and_never_a_5xx()
    {
        foreach (var request in _requests.For(CreateFields, 250))
        {
            await _requests.SendAndCheckAsync(_http, HttpMethod.Post, "/calculations", request, HttpStatusCode.Created, Token);
        }
    }

    [Fact]
    public async Task Generated_terms_are_answered_200_or_a_4xx_naming_the_field_and_never_a_5xx()
    {
        var id = await NewCalculationAsync();
        foreach (var request in _requests.For(TermFields, 250))
        {
            await _requests.SendAndCheckAsync(_http, HttpMethod.Put, $"/calculations/{id}", request, HttpStatusCode.OK, Token);
        }
    }

    [Fact]
    public async Task Generated_list_queries_are_answered_200_or_a_400_naming_the_parameter_and_never_a_5xx()
    {
        var faker = _requests.Faker;
        for (var i = 0; i < 200; i++)
        {
            var (parameter, value, valid) = faker.Random.Int(0, 5) switch
            {
                0 => ("status", faker.PickRandom("building", "processing", "done", "FAILED", "timed_out", "cancelled"), true),
                1 => ("status", faker.Lorem.Word() + faker.Random.AlphaNumeric(3), false),
                2 => ("page", faker.Random.Int(1, 1000).ToString(System.Globalization.CultureInfo.InvariantCulture), true),
                3 => (faker.PickRandom("page", "pageSize"), faker.PickRandom("0", "-1", "abc", "1.5", "99999999999", "1e3", new string('9', 500)), false),
                4 => ("pageSize", faker.Random.Int(1, 100).ToString(System.Globalization.CultureInfo.InvariantCulture), true),
                _ => ("pageSize", faker.PickRandom("101", "0", "x", ""), false),
            };
            await _requests.CheckQueryAsync(_http, $"/calculations?{parameter}={Uri.EscapeDataString(value)}", parameter, valid, Token);
        }
    }

    [Fact]
    public async Task Generated_ids_in_every_path_are_answered_404_and_never_a_5xx()
    {
        var faker = _requests.Faker;
        for (var i = 0; i < 100; i++)
        {
            var id = faker.Random.Int(0, 3) switch
            {
                0 => faker.Random.AlphaNumeric(faker.Random.Int(1, 64)),
                1 => faker.Random.String2(faker.Random.Int(1, 20), "äöü€漢字 '\"<>{}|\\^`"),
                2 => new string('x', faker.Random.Int(1000, 8000)),
                _ => faker.Random.Guid().ToString(),
            };
            var escaped = Uri.EscapeDataString(id);
            var (method, path) = faker.Random.Int(0, 3) switch
            {
                0 => (HttpMethod.Get, $"/calculations/{escaped}"),
                1 => (HttpMethod.Delete, $"/calculations/{escaped}"),
                2 => (HttpMethod.Put, $"/calculations/{escaped}/finalize"),
                _ => (HttpMethod.Post, $"/calculations/{escaped}/callback/retry"),
            };
            await _requests.CheckNotFoundAsync(_http, method, path, Token);
        }
    }

    private async Task<string> NewCalculationAsync()
    {
        using var content = new StringContent("""{"type":"addition","init":1}""", Encoding.UTF8, "application/json");
        using var response = await _http.PostAsync("/calculations", content, Token);
        return (await CalculationsClient.ReadAsync(response, HttpStatusCode.Created))["id"]!.GetValue<string>();
    }
}
