using System.Net;
using Calc.Testing;

namespace Calc.Telemetry.Tests;

/// <summary>Every app serves /metrics in Prometheus' format, and a real Prometheus scrapes our metrics from them.</summary>
public sealed class MetricsTests(CacheServerProcess cache)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Prometheus_scraping_a_gateway_and_an_instance_reads_back_the_gateways_per_instance_forwards_and_the_instances_slots()
    {
        await using var cluster = new GatewayCluster(cache.Endpoint);
        await cluster.StartGatewayAsync();
        var instance = await cluster.StartCalculationsAsync("calc-metrics");
        await cluster.WaitForInstancesAsync("calculations", ["calc-metrics"], cancellationToken: Token);
        using var http = cluster.Gateway.CreateClient();
        for (var i = 0; i < 3; i++)
        {
            using var response = await http.GetAsync(new Uri("/calculations/none", UriKind.Relative), Token);
            response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        }

        // The gateway's /metrics is its own (not forwarded): it has the gateway's meter, not the instance's slots.
        var gatewayText = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative), Token);
        gatewayText.ShouldContain("calc_gateway_forwards");
        gatewayText.ShouldNotContain("calc_scheduler_slots");

        await using var prometheus = await PrometheusServer.StartAsync(
            [cluster.Gateway.BaseAddress.Authority, instance.BaseAddress.Authority]);
        var forwards = await prometheus.WaitForSeriesAsync("calc_gateway_forwards_total{calc_instance_id=\"calc-metrics\"}", TimeSpan.FromSeconds(30), Token);
        double.Parse(forwards[0]!["value"]![1]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture).ShouldBeGreaterThanOrEqualTo(1);
        var slots = await prometheus.WaitForSeriesAsync("calc_scheduler_slots", TimeSpan.FromSeconds(30), Token);
        double.Parse(slots[0]!["value"]![1]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture).ShouldBeGreaterThan(0);
        _ = await prometheus.WaitForSeriesAsync("http_server_request_duration_seconds_count", TimeSpan.FromSeconds(30), Token);
    }
}
