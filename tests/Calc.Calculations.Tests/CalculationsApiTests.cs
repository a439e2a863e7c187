using System.Net;
using System.Net.Http.Json;
using System.Text;
using Calc.Testing;

namespace Calc.Calculations.Tests;

/// <summary>
/// Every endpoint of the Calculations API, success and failure. Closed once per database provider below, so the
/// SQLite default and PostgreSQL are held to the same behaviour.
/// </summary>
public abstract class CalculationsApiTests : IAsyncLifetime
{
    private CalculationsApp? _app;

    protected CalculationsClient Api { get; private set; } = null!;

    protected abstract Task<CalculationsApp> CreateAppAsync();

    public async ValueTask InitializeAsync()
    {
        _app = await CreateAppAsync();
        Api = new CalculationsClient(_app.CreateClient());
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task Seed_sequence_39_plus_12_is_51()
    {
        var created = await Api.CreateAsync(new { type = "addition", init = 39 });
        created["status"]!.GetValue<string>().ShouldBe("building");
        var id = created["id"]!.GetValue<string>();

        var withTerm = await Api.AddTermAsync(id, 12);
        withTerm["status"]!.GetValue<string>().ShouldBe("building");

        using var finalize = await Api.FinalizeAsync(id);
        var accepted = await CalculationsClient.ReadAsync(finalize, HttpStatusCode.Accepted);
        accepted["status"]!.GetValue<string>().ShouldBe("processing");
        finalize.Headers.Location!.ToString().ShouldBe($"/calculations/{id}");

        var done = await Api.WaitForFinalAsync(id);
        done["status"]!.GetValue<string>().ShouldBe("done");
        done["result"]!.GetValue<long>().ShouldBe(51); // a JSON number, as seed 000 shows it
    }

    [Fact]
    public async Task Create_returns_201_with_the_location_and_the_defaults()
    {
        using var response = await Api.Http.PostAsJsonAsync("/calculations", new { type = "multiplication", init = 2 }, TestContext.Current.CancellationToken);
        var created = await CalculationsClient.ReadAsync(response, HttpStatusCode.Created);

        response.Headers.Location!.ToString().ShouldBe($"/calculations/{created["id"]}");
        created["type"]!.GetValue<string>().ShouldBe("multiplication");
        created["priority"]!.GetValue<string>().ShouldBe("normal");
        created["timeoutSeconds"]!.GetValue<int>().ShouldBe(60);
        created["termCount"]!.GetValue<int>().ShouldBe(0);
    }

    [Theory]
    [InlineData("subtraction", 100, new long[] { 1, 2, 3 }, "94")]
    [InlineData("multiplication", -3, new long[] { 4, 5 }, "-60")]
    [InlineData("division", 1, new long[] { 3, 7 }, "1/21")]
    [InlineData("division", 84, new long[] { 2, 6 }, "7")]
    [InlineData("division", -7, new long[] { 2 }, "-7/2")]
    [InlineData("power", 2, new long[] { 10 }, "1024")]
    [InlineData("power", 2, new long[] { 3, 2 }, "64")]
    [InlineData("power", -2, new long[] { -3 }, "-1/8")]
    [InlineData("power", 0, new long[] { 0 }, "1")]
    [InlineData("factorial", 0, new long[0], "1")]
    [InlineData("factorial", 20, new long[0], "2432902008176640000")]
    public async Task Each_type_computes_the_exact_result(string type, long init, long[] terms, string expected)
    {
        var done = await Api.ComputeAsync(type, init, [.. terms.Cast<object>()]);

        done["status"]!.GetValue<string>().ShouldBe("done", done.ToJsonString());
        done["result"]!.ToString().ShouldBe(expected);
    }

    [Fact]
    public async Task Numbers_beyond_64_bits_are_exact_and_long_results_are_strings()
    {
        var done = await Api.ComputeAsync("multiplication", "123456789012345678901234567890", "98765432109876543210987654321");

        var expected = System.Numerics.BigInteger.Parse("123456789012345678901234567890", System.Globalization.CultureInfo.InvariantCulture)
            * System.Numerics.BigInteger.Parse("98765432109876543210987654321", System.Globalization.CultureInfo.InvariantCulture);
        done["result"]!.GetValue<string>().ShouldBe(expected.ToString(System.Globalization.CultureInfo.InvariantCulture));
        done["resultDigits"]!.GetValue<int>().ShouldBe(59);
    }

    [Fact]
    public async Task A_big_factorial_has_the_right_digits()
    {
        var done = await Api.ComputeAsync("factorial", 1000);
        var digits = done["result"]!.GetValue<string>();

        var expected = System.Numerics.BigInteger.One;
        for (var i = 2; i <= 1000; i++)
        {
            expected *= i;
        }

        digits.ShouldBe(expected.ToString(System.Globalization.CultureInfo.InvariantCulture));
        done["resultDigits"]!.GetValue<int>().ShouldBe(2568);
    }

    [Fact]
    public async Task Division_by_zero_ends_failed_naming_the_term()
    {
        var failed = await Api.ComputeAsync("division", 10, 2, 0);

        failed["status"]!.GetValue<string>().ShouldBe("failed");
        failed["error"]!.GetValue<string>().ShouldContain("term 2");
        failed["result"].ShouldBeNull();
    }

    [Fact]
    public async Task A_term_on_a_factorial_is_a_400_naming_term()
    {
        var id = await Api.CreateIdAsync(new { type = "factorial", init = 5 });

        var problem = await Api.AddTermAsync(id, 3, HttpStatusCode.BadRequest);

        CalculationsClient.FieldErrors(problem).ShouldContainKey("term");
    }

    [Fact]
    public async Task A_term_after_finalize_is_a_409()
    {
        var id = await Api.CreateIdAsync(new { type = "addition", init = 1 });
        (await Api.FinalizeAsync(id)).StatusCode.ShouldBe(HttpStatusCode.Accepted);

        var problem = await Api.AddTermAsync(id, 2, HttpStatusCode.Conflict);

        problem["status"]!.GetValue<int>().ShouldBe(409);
        problem["detail"]!.GetValue<string>().ShouldContain("building");
    }

    [Fact]
    public async Task Finalizing_twice_answers_202_then_the_current_state_202_while_processing_or_200_once_final_never_409()
    {
        var id = await Api.CreateIdAsync(new { type = "addition", init = 1 });
        (await Api.FinalizeAsync(id)).StatusCode.ShouldBe(HttpStatusCode.Accepted);

        using var again = await Api.FinalizeAsync(id);

        // A retried finalize (the gateway's, after the first instance stored processing and died) is not a failure.
        var state = await CalculationsClient.ReadAsync(again, again.StatusCode);
        var status = state["status"]!.GetValue<string>();
        (again.StatusCode, status).ShouldBeOneOf((HttpStatusCode.Accepted, "processing"), (HttpStatusCode.OK, "done"));
        state["id"]!.GetValue<string>().ShouldBe(id);
    }

    [Fact]
    public async Task Finalizing_a_done_calculation_answers_200_with_its_result()
    {
        var done = await Api.ComputeAsync("addition", 39, 12);
        var id = done["id"]!.GetValue<string>();

        using var again = await Api.FinalizeAsync(id);

        var state = await CalculationsClient.ReadAsync(again, HttpStatusCode.OK);
        state["status"]!.GetValue<string>().ShouldBe("done");
        state["result"]!.GetValue<long>().ShouldBe(51);
        state["termCount"]!.GetValue<int>().ShouldBe(1);
    }

    [Fact]
    public async Task Concurrent_terms_are_all_kept()
    {
        var id = await Api.CreateIdAsync(new { type = "addition", init = 0 });

        await Task.WhenAll(Enumerable.Range(1, 20).Select(i => Api.AddTermAsync(id, i)));
        (await Api.FinalizeAsync(id)).StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var done = await Api.WaitForFinalAsync(id);

        done["termCount"]!.GetValue<int>().ShouldBe(20);
        done["result"]!.GetValue<long>().ShouldBe(210);
    }

    [Fact]
    public async Task Unknown_ids_are_404_problem_details_on_every_endpoint()
    {
        const string missing = "does-not-exist";
        (await Api.GetAsync(missing, HttpStatusCode.NotFound))["title"]!.GetValue<string>().ShouldBe("Calculation not found");
        await Api.AddTermAsync(missing, 1, HttpStatusCode.NotFound);
        (await Api.FinalizeAsync(missing)).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        await Api.CancelAsync(missing, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Cancelling_a_building_calculation_ends_it_cancelling_again_is_a_409_and_finalizing_it_answers_200_cancelled()
    {
        var id = await Api.CreateIdAsync(new { type = "addition", init = 1 });

        var cancelled = await Api.CancelAsync(id);
        cancelled["status"]!.GetValue<string>().ShouldBe("cancelled");
        (await Api.GetAsync(id))["status"]!.GetValue<string>().ShouldBe("cancelled");
        await Api.CancelAsync(id, HttpStatusCode.Conflict);
        using var finalize = await Api.FinalizeAsync(id);
        (await CalculationsClient.ReadAsync(finalize, HttpStatusCode.OK))["status"]!.GetValue<string>().ShouldBe("cancelled");
    }

    [Fact]
    public async Task List_filters_by_status_newest_first_with_paging()
    {
        var building = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            building.Add(await Api.CreateIdAsync(new { type = "addition", init = i }));
        }

        var cancelled = await Api.CreateIdAsync(new { type = "addition", init = 99 });
        await Api.CancelAsync(cancelled);

        var firstPage = await GetJsonAsync("/calculations?status=building&page=1&pageSize=3");
        var secondPage = await GetJsonAsync("/calculations?status=building&page=2&pageSize=3");
        var cancelledPage = await GetJsonAsync("/calculations?status=CANCELLED");

        firstPage["total"]!.GetValue<long>().ShouldBe(5);
        var ids = firstPage["items"]!.AsArray().Concat(secondPage["items"]!.AsArray()).Select(c => c!["id"]!.GetValue<string>()).ToList();
        ids.ShouldBe(Enumerable.Reverse(building).ToList());
        cancelledPage["items"]!.AsArray().Select(c => c!["id"]!.GetValue<string>()).ShouldBe([cancelled]);
    }

    [Theory]
    [InlineData("/calculations?status=finished", "status")]
    [InlineData("/calculations?pageSize=0", "pageSize")]
    [InlineData("/calculations?pageSize=101", "pageSize")]
    [InlineData("/calculations?page=0", "page")]
    [InlineData("/calculations?page=abc", "page")]
    public async Task List_rejects_bad_query_parameters_with_a_400_naming_them(string url, string field)
    {
        using var response = await Api.Http.GetAsync(url, TestContext.Current.CancellationToken);
        var problem = await CalculationsClient.ReadAsync(response, HttpStatusCode.BadRequest);

        CalculationsClient.FieldErrors(problem).ShouldContainKey(field);
    }

    [Fact]
    public async Task Status_reports_capacity_and_counts_per_status()
    {
        var done = await Api.ComputeAsync("addition", 1, 1);
        await Api.CreateIdAsync(new { type = "addition", init = 1 });

        var status = await GetJsonAsync("/status");

        status["service"]!.GetValue<string>().ShouldBe("calculations");
        status["capacity"]!["slots"]!.GetValue<int>().ShouldBe(4);
        status["capacity"]!["reservedHigh"]!.GetValue<int>().ShouldBe(1);
        status["capacity"]!["processing"]!.GetValue<int>().ShouldBe(0);
        status["queued"]!.GetValue<int>().ShouldBe(0);
        status["calculations"]!["done"]!.GetValue<long>().ShouldBeGreaterThanOrEqualTo(1);
        status["calculations"]!["building"]!.GetValue<long>().ShouldBeGreaterThanOrEqualTo(1);
        status["calculations"]!["timed_out"]!.GetValue<long>().ShouldBe(0);
        done["status"]!.GetValue<string>().ShouldBe("done");
    }

    [Fact]
    public async Task Health_endpoints_and_the_OpenAPI_document_answer()
    {
        var token = TestContext.Current.CancellationToken;
        (await Api.Http.GetAsync("/health/live", token)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await Api.Http.GetAsync("/health/ready", token)).StatusCode.ShouldBe(HttpStatusCode.OK);
        var openApi = await Api.Http.GetStringAsync("/openapi/v1.json", token);
        openApi.ShouldContain("/calculations/{id}/finalize");
        (await Api.Http.GetAsync("/swagger/index.html", token)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_request_id_is_created_or_forwarded_and_carried_by_problem_details()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/calculations/nope");
        request.Headers.Add("X-Request-Id", "gateway-req-42");
        using var forwarded = await Api.Http.SendAsync(request, TestContext.Current.CancellationToken);
        var problem = await CalculationsClient.ReadAsync(forwarded, HttpStatusCode.NotFound);

        forwarded.Headers.GetValues("X-Request-Id").ShouldBe(["gateway-req-42"]);
        problem["requestId"]!.GetValue<string>().ShouldBe("gateway-req-42");

        using var created = await Api.Http.GetAsync("/status", TestContext.Current.CancellationToken);
        created.Headers.GetValues("X-Request-Id").Single().Length.ShouldBeGreaterThan(0);
    }

    [Fact]
    public async Task Malformed_json_is_a_400_problem_not_a_500()
    {
        using var content = new StringContent("{\"type\": \"addition\", ", Encoding.UTF8, "application/json");
        using var response = await Api.Http.PostAsync("/calculations", content, TestContext.Current.CancellationToken);

        var problem = await CalculationsClient.ReadAsync(response, HttpStatusCode.BadRequest);
        problem["errors"].ShouldNotBeNull();
    }

    protected async Task<System.Text.Json.Nodes.JsonObject> GetJsonAsync(string url)
    {
        using var response = await Api.Http.GetAsync(url, TestContext.Current.CancellationToken);
        return await CalculationsClient.ReadAsync(response, HttpStatusCode.OK);
    }
}

public sealed class CalculationsApiOnPostgresTests(PostgresServer postgres) : CalculationsApiTests
{
    protected override Task<CalculationsApp> CreateAppAsync() => CalculationsApp.OnPostgresAsync(postgres);
}

public sealed class CalculationsApiOnSqliteTests : CalculationsApiTests, IDisposable
{
    private readonly TempDirectory _directory = new();

    protected override Task<CalculationsApp> CreateAppAsync() => Task.FromResult(CalculationsApp.OnSqlite(_directory));

    public void Dispose() => _directory.Dispose();
}
