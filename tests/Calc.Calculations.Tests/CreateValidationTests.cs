using System.Net;
using System.Text;
using Calc.Testing;

namespace Calc.Calculations.Tests;

/// <summary>Bad input to create and add-term gets a 400 validation problem naming the field, never a 500.</summary>
public sealed class CreateValidationTests : IAsyncLifetime
{
    private readonly TempDirectory _directory = new();
    private CalculationsApp _app = null!;
    private CalculationsClient _api = null!;

    public ValueTask InitializeAsync()
    {
        _app = CalculationsApp.OnSqlite(_directory, ("Calculations:MaxInputDigits", "50"), ("Calculations:MaxFactorialN", "1000"));
        _api = new CalculationsClient(_app.CreateClient());
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        _directory.Dispose();
    }

    public static TheoryData<string, string> InvalidBodies => new()
    {
        { """{"init": 1}""", "type" },
        { """{"type": "modulo", "init": 1}""", "type" },
        { """{"type": "addition"}""", "init" },
        { """{"type": "addition", "init": null}""", "init" },
        { """{"type": "addition", "init": 1.5}""", "init" },
        { """{"type": "addition", "init": 1e3}""", "init" },
        { """{"type": "addition", "init": "12a"}""", "init" },
        { """{"type": "addition", "init": true}""", "init" },
        { """{"type": "addition", "init": "123456789012345678901234567890123456789012345678901"}""", "init" },
        { """{"type": "factorial", "init": -1}""", "init" },
        { """{"type": "factorial", "init": 1001}""", "init" },
        { """{"type": "addition", "init": 1, "priority": "urgent"}""", "priority" },
        { """{"type": "addition", "init": 1, "timeoutSeconds": 0}""", "timeoutSeconds" },
        { """{"type": "addition", "init": 1, "timeoutSeconds": 3601}""", "timeoutSeconds" },
        { """{"type": "addition", "init": 1, "timeoutSeconds": "soon"}""", "timeoutSeconds" },
        { """{"type": "addition", "init": 1, "callbackUrl": "ftp://example.test/x"}""", "callbackUrl" },
        { """{"type": "addition", "init": 1, "callbackUrl": "not a url"}""", "callbackUrl" },
        { """{"type": 7, "init": 1}""", "type" },
    };

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public async Task Create_with_an_invalid_field_is_a_400_naming_it(string body, string field)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await _api.Http.PostAsync("/calculations", content, TestContext.Current.CancellationToken);

        var problem = await CalculationsClient.ReadAsync(response, HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        CalculationsClient.FieldErrors(problem).ShouldContainKey(field);
    }

    [Fact]
    public async Task Create_without_a_body_is_a_400()
    {
        using var response = await _api.Http.PostAsync("/calculations", content: null, TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Integers_given_as_strings_and_large_numbers_are_accepted_exactly()
    {
        var created = await _api.CreateAsync(new { type = "addition", init = "-12345678901234567890", priority = "HIGH", timeoutSeconds = 5 });

        created["priority"]!.GetValue<string>().ShouldBe("high");
        created["timeoutSeconds"]!.GetValue<int>().ShouldBe(5);
    }

    [Theory]
    [InlineData("""{"term": 1.25}""")]
    [InlineData("""{"term": "x"}""")]
    [InlineData("""{"term": null}""")]
    [InlineData("""{}""")]
    [InlineData("""{"term": [1]}""")]
    public async Task An_invalid_term_is_a_400_naming_term(string body)
    {
        var id = await _api.CreateIdAsync(new { type = "addition", init = 1 });
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await _api.Http.PutAsync($"/calculations/{id}", content, TestContext.Current.CancellationToken);

        var problem = await CalculationsClient.ReadAsync(response, HttpStatusCode.BadRequest);
        CalculationsClient.FieldErrors(problem).ShouldContainKey("term");
    }

    [Fact]
    public async Task A_calculation_holds_at_most_the_configured_number_of_terms()
    {
        await using var app = CalculationsApp.OnSqlite(_directory, ("Calculations:MaxTerms", "2"), ("Database:ConnectionString", $"Data Source={_directory.Combine("terms.db")}"));
        var api = new CalculationsClient(app.CreateClient());
        var id = await api.CreateIdAsync(new { type = "addition", init = 1 });
        await api.AddTermAsync(id, 1);
        await api.AddTermAsync(id, 2);

        var problem = await api.AddTermAsync(id, 3, HttpStatusCode.Conflict);

        problem["detail"]!.GetValue<string>().ShouldContain("MaxTerms");
    }

    [Fact]
    public async Task A_power_whose_result_would_exceed_the_size_limit_is_refused_when_its_term_is_added()
    {
        await using var app = CalculationsApp.OnSqlite(_directory, ("Calculations:MaxResultBits", "1000"), ("Database:ConnectionString", $"Data Source={_directory.Combine("bits.db")}"));
        var api = new CalculationsClient(app.CreateClient());
        var id = await api.CreateIdAsync(new { type = "power", init = 10 });

        var problem = await api.AddTermAsync(id, 1000, HttpStatusCode.BadRequest);

        CalculationsClient.FieldErrors(problem)["term"][0].ShouldContain("MaxResultBits");
    }
}
