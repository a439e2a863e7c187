using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
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

    [Fact]
    public async Task Prometheus_reads_back_the_admission_the_finished_status_and_the_cpu_lane_wait_of_a_calculation_done_through_the_gateway()
    {
        await using var cluster = new GatewayCluster(cache.Endpoint);
        await cluster.StartGatewayAsync();
        var instance = await cluster.StartCalculationsAsync("calc-counted");
        await cluster.WaitForInstancesAsync("calculations", ["calc-counted"], cancellationToken: Token);
        using var http = cluster.Gateway.CreateClient();

        string id;
        using (var create = await http.PostAsJsonAsync(new Uri("/calculations", UriKind.Relative), new { type = "addition", init = 39 }, Token))
        {
            var json = await create.Content.ReadFromJsonAsync<JsonObject>(Token);
            create.StatusCode.ShouldBe(HttpStatusCode.Created, json?.ToJsonString());
            id = json!["id"]!.GetValue<string>();
        }

        using (var finalize = await http.PutAsync(new Uri($"/calculations/{id}/finalize", UriKind.Relative), content: null, Token))
        {
            finalize.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        }

        await Eventually.ValueAsync(
            async () => (await http.GetFromJsonAsync<JsonObject>(new Uri($"/calculations/{id}", UriKind.Relative), Token))!["status"]!.GetValue<string>(),
            status => status == "done", TimeSpan.FromSeconds(30), "the calculation to be done", every: TimeSpan.FromMilliseconds(100), cancellationToken: Token);

        await using var prometheus = await PrometheusServer.StartAsync([instance.BaseAddress.Authority]);
        var admitted = await prometheus.WaitForSeriesAsync("calc_calculation_admissions_total{calc_outcome=\"admitted\",calc_priority=\"normal\"}", TimeSpan.FromSeconds(30), Token);
        ValueOf(admitted).ShouldBe(1);
        var finished = await prometheus.WaitForSeriesAsync("calc_calculation_finished_total{calc_calculation_status=\"done\"}", TimeSpan.FromSeconds(30), Token);
        ValueOf(finished).ShouldBe(1);
        (await prometheus.QueryAsync("calc_calculation_admissions_total{calc_outcome=\"refused\"} > 0", Token)).ShouldBeEmpty();
        var cpuWaits = await prometheus.WaitForSeriesAsync("calc_lane_wait_duration_seconds_count{calc_lane=\"cpu\"}", TimeSpan.FromSeconds(30), Token);
        ValueOf(cpuWaits).ShouldBeGreaterThanOrEqualTo(1);
    }

    private static double ValueOf(JsonArray series) =>
        double.Parse(series[0]!["value"]![1]!.GetValue<string>(), CultureInfo.InvariantCulture);
}
