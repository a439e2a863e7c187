using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Calc.Testing;

namespace Calc.Gateway.Tests;

/// <summary>The calculation calls the tests make, through the gateway or straight to an instance.</summary>
internal static class Calculations
{
    // Runs for many seconds on the managed engine (the instances start with GMP off); cancelled by each test.
    public const int SlowFactorialN = 2_500_000;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public static async Task<string> CreateAsync(HttpClient http, object body)
    {
        using var response = await http.PostAsJsonAsync("/calculations", body, Token);
        var json = await response.Content.ReadFromJsonAsync<JsonObject>(Token);
        response.StatusCode.ShouldBe(HttpStatusCode.Created, json?.ToJsonString());
        return json!["id"]!.GetValue<string>();
    }

    /// <summary>A finished calculation (39 + 12), for GETs that must succeed.</summary>
    public static async Task<string> CreateDoneAsync(HttpClient http)
    {
        var id = await CreateAsync(http, new { type = "addition", init = 39 });
        using (var term = await http.PutAsJsonAsync($"/calculations/{id}", new { term = 12 }, Token))
        {
            term.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        using (var finalize = await http.PutAsync($"/calculations/{id}/finalize", null, Token))
        {
            finalize.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        }

        await WaitForStatusAsync(http, id, "done");
        return id;
    }

    /// <summary>
    /// Takes one of the instance's slots with a factorial that runs until cancelled: its only normal-priority one, or
    /// with <paramref name="priority"/> "high" its reserved one.
    /// </summary>
    public static async Task<string> StartSlowAsync(HttpClient instance, string priority = "normal")
    {
        var id = await CreateAsync(instance, new { type = "factorial", init = SlowFactorialN, timeoutSeconds = 120, priority });

        // A slot cancelled by the previous test may take a moment to be given back.
        var (status, body) = await Eventually.ValueAsync(
            async () =>
            {
                using var finalize = await instance.PutAsync($"/calculations/{id}/finalize", null, Token);
                return (finalize.StatusCode, await finalize.Content.ReadAsStringAsync(Token));
            },
            answer => answer.StatusCode != HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(15), "a free slot to finalize into",
            every: TimeSpan.FromMilliseconds(200), cancellationToken: Token);
        status.ShouldBe(HttpStatusCode.Accepted, body);
        return id;
    }

    public static async Task CancelAsync(HttpClient http, string id)
    {
        using var response = await http.DeleteAsync($"/calculations/{id}", CancellationToken.None);
    }

    public static async Task<JsonObject> WaitForStatusAsync(HttpClient http, string id, string status)
    {
        return await Eventually.ValueAsync(
            async () => (await http.GetFromJsonAsync<JsonObject>($"/calculations/{id}", Token))!,
            calculation => calculation["status"]!.GetValue<string>() == status, TimeSpan.FromSeconds(30), $"calculation {id} to be {status}",
            calculation => calculation.ToJsonString(), cancellationToken: Token);
    }
}
