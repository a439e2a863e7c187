using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Calc.Testing;

namespace Calc.Jobs.Tests;

/// <summary>Calls the Jobs API the way a client does, over HTTP with JSON.</summary>
public sealed class JobsClient(HttpClient http)
{
    public HttpClient Http { get; } = http;

    public async Task<(HttpStatusCode Status, JsonObject Body)> PostBudgetAsync(object body)
    {
        using var response = await Http.PostAsJsonAsync("/jobs/budget", body, Token);
        var text = await response.Content.ReadAsStringAsync(Token);
        return (response.StatusCode, JsonNode.Parse(text)!.AsObject());
    }

    public async Task<string> CreateBudgetAsync(object body)
    {
        var (status, job) = await PostBudgetAsync(body);
        status.ShouldBe(HttpStatusCode.Accepted, job.ToJsonString());
        return job["id"]!.GetValue<string>();
    }

    public async Task<JsonObject> GetAsync(string id, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await Http.GetAsync($"/jobs/{id}", Token);
        return await ReadAsync(response, expected);
    }

    public async Task<HttpStatusCode> GetStatusCodeAsync(string id)
    {
        using var response = await Http.GetAsync($"/jobs/{id}", Token);
        return response.StatusCode;
    }

    public async Task<JsonObject> CancelAsync(string id, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await Http.DeleteAsync($"/jobs/{id}", Token);
        return await ReadAsync(response, expected);
    }

    public async Task<JsonObject> StatusAsync() => (await Http.GetFromJsonAsync<JsonObject>("/status", Token))!;

    public async Task<JsonObject> WaitForFinalAsync(string id, TimeSpan? limit = null) =>
        await WaitForAsync(id, j => Status(j) is "done" or "failed" or "timed_out" or "cancelled", limit);

    public Task<JsonObject> WaitForAsync(string id, Func<JsonObject, bool> condition, TimeSpan? limit = null) =>
        Eventually.ValueAsync(() => GetAsync(id), condition, limit ?? TimeSpan.FromSeconds(30), $"job {id} to reach the expected state",
            job => job.ToJsonString(), cancellationToken: Token);

    public static string Status(JsonObject job) => job["status"]!.GetValue<string>();

    /// <summary>The distribution's amounts, as exact decimals.</summary>
    public static decimal[] Amounts(JsonObject job) =>
        [.. job["budget"]!["distribution"]!.AsArray().Select(d => d!["amount"]!.GetValue<decimal>())];

    public static async Task<JsonObject> ReadAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync(Token);
        response.StatusCode.ShouldBe(expected, text);
        return JsonNode.Parse(text)!.AsObject();
    }

    private static CancellationToken Token => TestContext.Current.CancellationToken;
}
