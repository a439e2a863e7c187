using System.Diagnostics;
using System.Net;
using System.Text;
using Calc.Testing;

namespace Calc.Calculations.Tests;

/// <summary>
/// Input whose size decides how much memory or time the service spends: every such input meets a configured limit
/// and is refused with a 400 naming the field, at once, before any work is done. The time budgets are generous on
/// purpose (a shared machine): they tell "refused on sight" from "computed, then refused".
/// </summary>
public sealed class InputLimitsTests : IDisposable
{
    private static readonly TimeSpan RefusedOnSight = TimeSpan.FromSeconds(20);

    private readonly TempDirectory _directory = new();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public void Dispose() => _directory.Dispose();

    private CalculationsApp StartApp(string database, params (string Key, string? Value)[] settings) =>
        CalculationsApp.OnSqlite(_directory, [("Database:ConnectionString", $"Data Source={_directory.Combine(database)}"), .. settings]);

    private static async Task<(HttpStatusCode Status, Dictionary<string, string[]> Errors, TimeSpan Took)> SendAsync(HttpClient http, HttpMethod method, string path, string json)
    {
        var clock = Stopwatch.StartNew();
        using var request = new HttpRequestMessage(method, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        using var response = await http.SendAsync(request, Token);
        var status = response.StatusCode;
        var problem = await CalculationsClient.ReadAsync(response, status);
        return (status, problem["errors"] is null ? [] : CalculationsClient.FieldErrors(problem), clock.Elapsed);
    }

    [Fact]
    public async Task A_ten_megabyte_number_as_init_or_term_is_refused_on_sight_with_400_naming_the_field()
    {
        await using var app = StartApp("digits.db");
        var api = new CalculationsClient(app.CreateClient());
        var digits = new string('7', 10_000_000);

        var asNumber = await SendAsync(api.Http, HttpMethod.Post, "/calculations", $$"""{"type":"addition","init":{{digits}}}""");
        var asString = await SendAsync(api.Http, HttpMethod.Post, "/calculations", $$"""{"type":"multiplication","init":"{{digits}}"}""");
        var id = await api.CreateIdAsync(new { type = "addition", init = 1 });
        var asTerm = await SendAsync(api.Http, HttpMethod.Put, $"/calculations/{id}", $$"""{"term":{{digits}}}""");

        foreach (var (result, field) in new[] { (asNumber, "init"), (asString, "init"), (asTerm, "term") })
        {
            result.Status.ShouldBe(HttpStatusCode.BadRequest);
            result.Errors[field][0].ShouldContain("has 10000000 digits; at most 10000 are allowed (Calculations:MaxInputDigits)");
            result.Took.ShouldBeLessThan(RefusedOnSight);
        }
    }

    [Theory]
    [InlineData("[", "]")]
    [InlineData("{\"a\":", "}")]
    public async Task Deeply_nested_json_is_refused_with_400_and_not_a_stack_overflow(string open, string close)
    {
        await using var app = StartApp("nested.db");
        var api = new CalculationsClient(app.CreateClient());
        var nested = string.Concat(Enumerable.Repeat(open, 100_000)) + "1" + string.Concat(Enumerable.Repeat(close, 100_000));

        var (status, errors, took) = await SendAsync(api.Http, HttpMethod.Post, "/calculations", $$"""{"type":"addition","init":{{nested}}}""");

        status.ShouldBe(HttpStatusCode.BadRequest);
        errors.Keys.ShouldHaveSingleItem().ShouldStartWith("init");
        took.ShouldBeLessThan(RefusedOnSight);
    }

    [Fact]
    public async Task A_power_term_that_would_pass_the_result_size_limit_is_a_400_naming_term_and_is_not_stored()
    {
        await using var app = StartApp("power.db", ("Calculations:MaxResultBits", "1000"));
        var api = new CalculationsClient(app.CreateClient());
        var id = await api.CreateIdAsync(new { type = "power", init = 10 });

        // 10 has 4 bits, so the estimate is (4 + 1) × exponent: 100 passes (500 bits), then 3 would make 1,500.
        await api.AddTermAsync(id, 100);
        var tooLarge = await api.AddTermAsync(id, 3, HttpStatusCode.BadRequest);
        var huge = await api.AddTermAsync(id, "9".PadRight(200, '9'), HttpStatusCode.BadRequest);

        CalculationsClient.FieldErrors(tooLarge)["term"][0].ShouldContain("larger than 1000 bits (Calculations:MaxResultBits)");
        CalculationsClient.FieldErrors(huge)["term"][0].ShouldContain("(200 characters)");
        (await api.GetAsync(id))["termCount"]!.GetValue<int>().ShouldBe(1);
    }

    [Fact]
    public async Task A_power_of_a_ten_thousand_digit_exponent_is_refused_on_sight_while_one_zero_or_minus_one_take_any_exponent()
    {
        await using var app = StartApp("exponent.db");
        var api = new CalculationsClient(app.CreateClient());
        var exponent = "1" + new string('0', 9_999);

        var two = await api.CreateIdAsync(new { type = "power", init = 2 });
        var clock = Stopwatch.StartNew();
        var refused = await api.AddTermAsync(two, exponent, HttpStatusCode.BadRequest);
        clock.Elapsed.ShouldBeLessThan(RefusedOnSight);
        CalculationsClient.FieldErrors(refused)["term"][0].ShouldContain("Calculations:MaxResultBits");

        var minusOne = await api.ComputeAsync("power", -1, exponent, exponent);
        minusOne["status"]!.GetValue<string>().ShouldBe("done");
        minusOne["result"]!.ToString().ShouldBe("1");

        // Exponent 0 makes 12345 a 1, which then takes the huge exponent as well.
        var zeroed = await api.ComputeAsync("power", 12345, 0, exponent);
        zeroed["result"]!.ToString().ShouldBe("1");
    }

    [Fact]
    public async Task The_engine_still_checks_the_size_of_a_power_whose_terms_were_accepted_under_a_larger_limit()
    {
        string id;
        await using (var generous = StartApp("lowered.db"))
        {
            var api = new CalculationsClient(generous.CreateClient());
            id = await api.CreateIdAsync(new { type = "power", init = 10 });
            await api.AddTermAsync(id, 1000);
        }

        await using var lowered = StartApp("lowered.db", ("Calculations:MaxResultBits", "1000"));
        var restarted = new CalculationsClient(lowered.CreateClient());
        using var finalize = await restarted.FinalizeAsync(id);
        finalize.StatusCode.ShouldBe(HttpStatusCode.Accepted);

        var failed = await restarted.WaitForFinalAsync(id);
        failed["status"]!.GetValue<string>().ShouldBe("failed");
        failed["error"]!.GetValue<string>().ShouldContain("MaxResultBits");
    }

    [Theory]
    [InlineData("/calculations?page=0", "page", "between 1 and 1000000 (Calculations:MaxPage)")]
    [InlineData("/calculations?page=1000001", "page", "between 1 and 1000000 (Calculations:MaxPage)")]
    [InlineData("/calculations?page=99999999999", "page", "wrong type or format")]
    [InlineData("/calculations?page=-5", "page", "Calculations:MaxPage")]
    [InlineData("/calculations?pageSize=101", "pageSize", "between 1 and 100 (Calculations:MaxPageSize)")]
    [InlineData("/calculations?pageSize=-1", "pageSize", "Calculations:MaxPageSize")]
    public async Task List_paging_past_its_limits_is_a_400_naming_the_parameter_and_the_key(string url, string field, string message)
    {
        await using var app = StartApp("paging.db");
        var api = new CalculationsClient(app.CreateClient());

        using var response = await api.Http.GetAsync(url, Token);

        var problem = await CalculationsClient.ReadAsync(response, HttpStatusCode.BadRequest);
        CalculationsClient.FieldErrors(problem)[field][0].ShouldContain(message);
    }

    [Fact]
    public async Task Paging_limits_follow_their_keys_and_an_offset_past_the_repository_range_is_a_400_naming_page()
    {
        await using var app = StartApp("paging-keys.db", ("Calculations:MaxPageSize", "1000"), ("Calculations:MaxPage", "10000000"));
        var api = new CalculationsClient(app.CreateClient());

        using var large = await api.Http.GetAsync("/calculations?page=3&pageSize=1000", Token);
        using var overflow = await api.Http.GetAsync("/calculations?page=10000000&pageSize=1000", Token);

        large.StatusCode.ShouldBe(HttpStatusCode.OK);
        var problem = await CalculationsClient.ReadAsync(overflow, HttpStatusCode.BadRequest);
        CalculationsClient.FieldErrors(problem)["page"][0].ShouldContain("skips more than 2147483647 items");
    }
}
