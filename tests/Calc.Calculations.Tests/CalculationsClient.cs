using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Calc.Testing;

namespace Calc.Calculations.Tests;

/// <summary>Calls the Calculations API the way a client does, over HTTP with JSON.</summary>
public sealed class CalculationsClient(HttpClient http)
{
    public HttpClient Http { get; } = http;

    public async Task<JsonObject> CreateAsync(object body, HttpStatusCode expected = HttpStatusCode.Created)
    {
        using var response = await Http.PostAsJsonAsync("/calculations", body, Token);
        return await ReadAsync(response, expected);
    }

    public async Task<string> CreateIdAsync(object body) => (await CreateAsync(body))["id"]!.GetValue<string>();

    public async Task<JsonObject> AddTermAsync(string id, object term, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await Http.PutAsJsonAsync($"/calculations/{id}", new { term }, Token);
        return await ReadAsync(response, expected);
    }

    public async Task<HttpResponseMessage> FinalizeAsync(string id) =>
        await Http.PutAsync($"/calculations/{id}/finalize", content: null, Token);

    public async Task<JsonObject> GetAsync(string id, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await Http.GetAsync($"/calculations/{id}", Token);
        return await ReadAsync(response, expected);
    }

    public async Task<JsonObject> CancelAsync(string id, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await Http.DeleteAsync($"/calculations/{id}", Token);
        return await ReadAsync(response, expected);
    }

    /// <summary>Creates, adds the terms, finalizes and waits for a final status.</summary>
    public async Task<JsonObject> ComputeAsync(string type, object init, params object[] terms)
    {
        var id = await CreateIdAsync(new { type, init });
        foreach (var term in terms)
        {
            await AddTermAsync(id, term);
        }

        using var finalize = await FinalizeAsync(id);
        finalize.StatusCode.ShouldBe(HttpStatusCode.Accepted, await finalize.Content.ReadAsStringAsync(Token));
        return await WaitForFinalAsync(id);
    }

    public async Task<JsonObject> WaitForFinalAsync(string id, TimeSpan? limit = null) =>
        await WaitForAsync(id, c => c["status"]!.GetValue<string>() is "done" or "failed" or "timed_out" or "cancelled", limit);

    public Task<JsonObject> WaitForAsync(string id, Func<JsonObject, bool> condition, TimeSpan? limit = null) =>
        Eventually.ValueAsync(() => GetAsync(id), condition, limit ?? TimeSpan.FromSeconds(30), $"calculation {id} to reach the expected state",
            calculation => calculation.ToJsonString(), TimeSpan.FromMilliseconds(25), Token);

    public static async Task<JsonObject> ReadAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync(Token);
        response.StatusCode.ShouldBe(expected, text);
        return JsonNode.Parse(text)!.AsObject();
    }

    /// <summary>The field errors of a 400 validation problem.</summary>
    public static Dictionary<string, string[]> FieldErrors(JsonObject problem) =>
        problem["errors"]!.AsObject().ToDictionary(e => e.Key, e => e.Value!.AsArray().Select(m => m!.GetValue<string>()).ToArray());

    private static CancellationToken Token => TestContext.Current.CancellationToken;
}
