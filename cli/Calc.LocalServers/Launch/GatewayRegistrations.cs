using System.Text.Json.Nodes;

namespace Calc.LocalServers.Launch;

/// <summary>Reads the gateway's <c>/status</c> until every expected instance is registered (only then is "Calc is up" true).</summary>
public static class GatewayRegistrations
{
    /// <summary>Waits until the gateway lists at least the expected number of instances of each service.</summary>
    /// <exception cref="TimeoutException">When they are not all registered within <paramref name="within"/>.</exception>
    public static async Task WaitAsync(Uri gateway, IReadOnlyDictionary<string, int> expected, TimeSpan within, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(expected);
        using var http = new HttpClient { BaseAddress = gateway, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            var counts = new Dictionary<string, int>();
            try
            {
                var status = JsonNode.Parse(await http.GetStringAsync(new Uri("/status", UriKind.Relative), cancellationToken));
                foreach (var service in (status?["services"] as JsonArray ?? []).OfType<JsonObject>())
                {
                    counts[service["service"]?.GetValue<string>() ?? ""] = (service["instances"] as JsonArray)?.Count ?? 0;
                }
            }
            catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // Not answering yet: asked again below.
            }

            if (expected.All(e => counts.GetValueOrDefault(e.Key) >= e.Value))
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The services did not all register with the gateway within {within.TotalSeconds:0} s: "
                    + string.Join(", ", expected.Select(e => $"{e.Key} {counts.GetValueOrDefault(e.Key)}/{e.Value}")));
            }

            await Task.Delay(250, cancellationToken);
        }
    }
}
