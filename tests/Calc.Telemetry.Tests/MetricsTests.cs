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

    [Fact]
    public async Task Prometheus_reads_back_the_job_counts_the_queue_depth_and_the_queue_time_of_a_budget_job_done_through_the_gateway()
    {
        await using var cluster = new GatewayCluster(cache.Endpoint);
        await cluster.StartGatewayAsync();
        var jobs = await cluster.StartJobsAsync("jobs-metrics", ("Jobs:MetricsSampleInterval", "00:00:00.500"));
        await cluster.WaitForInstancesAsync("jobs", ["jobs-metrics"], cancellationToken: Token);
        using var http = cluster.Gateway.CreateClient();

        string id;
        using (var post = await http.PostAsJsonAsync(new Uri("/jobs/budget", UriKind.Relative), new { daysOnline = 3, budget = 100m }, Token))
        {
            var json = await post.Content.ReadFromJsonAsync<JsonObject>(Token);
            post.StatusCode.ShouldBe(HttpStatusCode.Accepted, json?.ToJsonString());
            id = json!["id"]!.GetValue<string>();
        }

        await WaitForStatusAsync(http, $"/jobs/{id}", "done");

        await using var prometheus = await PrometheusServer.StartAsync([jobs.BaseAddress.Authority]);
        // The instance's own SQLite file: this job is its only one.
        var done = await prometheus.WaitForSeriesAsync("calc_job_count{calc_job_status=\"done\"} == 1", TimeSpan.FromSeconds(30), Token);
        ValueOf(done).ShouldBe(1);
        (await prometheus.QueryAsync("calc_job_count{calc_job_status=\"queued\"} > 0", Token)).ShouldBeEmpty();
        var ready = await prometheus.WaitForSeriesAsync("calc_job_queue_depth{calc_queue_state=\"ready\"}", TimeSpan.FromSeconds(30), Token);
        ValueOf(ready).ShouldBe(0, "the one message was taken and acknowledged");
        var queueTimes = await prometheus.WaitForSeriesAsync("calc_scheduler_queue_duration_seconds_count", TimeSpan.FromSeconds(30), Token);
        queueTimes.Sum(ValueOfSeries).ShouldBe(1, "the job's delivery waited for a work slot once");
        var buckets = await prometheus.WaitForSeriesAsync("calc_scheduler_queue_duration_seconds_bucket{le=\"+Inf\"}", TimeSpan.FromSeconds(30), Token);
        buckets.Sum(ValueOfSeries).ShouldBe(1);
    }

    [Fact]
    public async Task Prometheus_reads_back_a_finalization_refused_with_503_at_capacity_as_a_refused_admission()
    {
        await using var cluster = new GatewayCluster(cache.Endpoint);
        await cluster.StartGatewayAsync();
        // One slot for normal work (the other is reserved for high priority); a slow factorial holds it.
        var instance = await cluster.StartCalculationsAsync("calc-refusing",
            ("Capacity:Slots", "2"), ("Capacity:ReservedHigh", "1"), ("Calculations:MaxFactorialN", "5000000"), ("CALC_NUMERICS_NO_GMP", "1"));
        await cluster.WaitForInstancesAsync("calculations", ["calc-refusing"], cancellationToken: Token);
        using var http = cluster.Gateway.CreateClient();

        var slow = await CreateAsync(http, new { type = "factorial", init = 3_000_000, timeoutSeconds = 600 });
        using (var finalize = await http.PutAsync(new Uri($"/calculations/{slow}/finalize", UriKind.Relative), content: null, Token))
        {
            finalize.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        }

        var refused = await CreateAsync(http, new { type = "addition", init = 1 });
        using (var finalize = await http.PutAsync(new Uri($"/calculations/{refused}/finalize", UriKind.Relative), content: null, Token))
        {
            finalize.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable, await finalize.Content.ReadAsStringAsync(Token));
        }

        await using var prometheus = await PrometheusServer.StartAsync([instance.BaseAddress.Authority]);
        var refusals = await prometheus.WaitForSeriesAsync("calc_calculation_admissions_total{calc_outcome=\"refused\",calc_priority=\"normal\"}", TimeSpan.FromSeconds(30), Token);
        ValueOf(refusals).ShouldBe(1);
        var admitted = await prometheus.WaitForSeriesAsync("calc_calculation_admissions_total{calc_outcome=\"admitted\",calc_priority=\"normal\"}", TimeSpan.FromSeconds(30), Token);
        ValueOf(admitted).ShouldBe(1, "only the slow factorial got the slot");

        using var cancel = await http.DeleteAsync(new Uri($"/calculations/{slow}", UriKind.Relative), Token);
        cancel.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    private static async Task<string> CreateAsync(HttpClient http, object body)
    {
        using var create = await http.PostAsJsonAsync(new Uri("/calculations", UriKind.Relative), body, Token);
        var json = await create.Content.ReadFromJsonAsync<JsonObject>(Token);
        create.StatusCode.ShouldBe(HttpStatusCode.Created, json?.ToJsonString());
        return json!["id"]!.GetValue<string>();
    }

    private static async Task WaitForStatusAsync(HttpClient http, string path, string expected)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var item = await http.GetFromJsonAsync<JsonObject>(new Uri(path, UriKind.Relative), Token);
            var status = item!["status"]!.GetValue<string>();
            if (status == expected)
            {
                return;
            }

            DateTime.UtcNow.ShouldBeLessThan(deadline, $"{path} is still {status}: {item.ToJsonString()}");
            await Task.Delay(100, Token);
        }
    }

    private static double ValueOfSeries(JsonNode? series) =>
        double.Parse(series!["value"]![1]!.GetValue<string>(), CultureInfo.InvariantCulture);

    private static double ValueOf(JsonArray series) =>
        double.Parse(series[0]!["value"]![1]!.GetValue<string>(), CultureInfo.InvariantCulture);
}
