using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Calc.Testing;

namespace Calc.Calculations.Tests;

/// <summary>
/// Capacity, priorities, timeouts, cancellation, progress and crash recovery, against real service processes on a
/// real PostgreSQL. A slow calculation is a large factorial on the managed big-number engine (GMP switched off for
/// that process), which checks for cancellation between multiplications.
/// </summary>
public sealed class ProcessingTests(PostgresServer postgres)
{
    private const int SlowFactorialN = 1_000_000;

    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);

    private static async Task<(ServiceProcess Service, CalculationsClient Api)> StartAsync(string connectionString, bool managedMath, params (string Key, string Value)[] settings)
    {
        var environment = new Dictionary<string, string?>
        {
            ["Database__Provider"] = "postgres",
            ["Database__ConnectionString"] = connectionString,
            ["Calculations__MaxFactorialN"] = "5000000",
            ["CALC_NUMERICS_NO_GMP"] = managedMath ? "1" : null,
        };
        foreach (var (key, value) in settings)
        {
            environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var service = await ServiceProcess.StartAsync("services/Calc.Calculations", environment);
        return (service, new CalculationsClient(service.CreateClient()));
    }

    private static async Task<string> StartSlowAsync(CalculationsClient api, string priority = "normal", int timeoutSeconds = 600)
    {
        var id = await api.CreateIdAsync(new { type = "factorial", init = SlowFactorialN, priority, timeoutSeconds });
        using var finalize = await api.FinalizeAsync(id);
        finalize.StatusCode.ShouldBe(HttpStatusCode.Accepted, await finalize.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        return id;
    }

    private static async Task<JsonObject> StatusAsync(CalculationsClient api) =>
        (await api.Http.GetFromJsonAsync<JsonObject>("/status", TestContext.Current.CancellationToken))!;

    [Fact]
    public async Task At_capacity_finalize_is_refused_with_503_and_Retry_After_and_reserved_slots_admit_only_high_priority()
    {
        var (service, api) = await StartAsync(await postgres.CreateDatabaseAsync(), managedMath: true,
            ("Capacity:Slots", "2"), ("Capacity:ReservedHigh", "1"), ("Capacity:RetryAfterSeconds", "3"));
        await using var _ = service;

        var slowNormal = await StartSlowAsync(api);

        // The only non-reserved slot is taken: a normal calculation is refused at once and stays building.
        var refused = await api.CreateIdAsync(new { type = "addition", init = 1 });
        using (var response = await api.FinalizeAsync(refused))
        {
            var problem = await CalculationsClient.ReadAsync(response, HttpStatusCode.ServiceUnavailable);
            response.Headers.RetryAfter!.Delta.ShouldBe(TimeSpan.FromSeconds(3));
            problem["title"]!.GetValue<string>().ShouldBe("No capacity");
        }

        (await api.GetAsync(refused))["status"]!.GetValue<string>().ShouldBe("building");

        // The reserved slot still admits a high-priority calculation, and then nothing more fits.
        var slowHigh = await StartSlowAsync(api, priority: "high");
        var secondHigh = await api.CreateIdAsync(new { type = "addition", init = 1, priority = "high" });
        (await api.FinalizeAsync(secondHigh)).StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);

        var status = await StatusAsync(api);
        status["capacity"]!["processing"]!.GetValue<int>().ShouldBe(2);
        status["capacity"]!["processingHigh"]!.GetValue<int>().ShouldBe(1);
        status["calculations"]!["processing"]!.GetValue<long>().ShouldBe(2);

        // Cancelling frees the slots at once, and the refused calculation can be finalized on retry.
        (await api.CancelAsync(slowNormal))["status"]!.GetValue<string>().ShouldBe("cancelled");
        (await api.CancelAsync(slowHigh))["status"]!.GetValue<string>().ShouldBe("cancelled");
        await WaitUntilIdleAsync(api, service);

        (await api.FinalizeAsync(refused)).StatusCode.ShouldBe(HttpStatusCode.Accepted);
        (await api.WaitForFinalAsync(refused))["status"]!.GetValue<string>().ShouldBe("done");
        (await api.GetAsync(slowNormal))["status"]!.GetValue<string>().ShouldBe("cancelled");
    }

    [Fact]
    public async Task Finalizing_a_processing_calculation_again_answers_202_with_its_state_and_starts_nothing_twice()
    {
        var (service, api) = await StartAsync(await postgres.CreateDatabaseAsync(), managedMath: true);
        await using var _ = service;
        var id = await StartSlowAsync(api);

        using (var again = await api.FinalizeAsync(id))
        {
            var state = await CalculationsClient.ReadAsync(again, HttpStatusCode.Accepted);
            state["id"]!.GetValue<string>().ShouldBe(id);
            state["status"]!.GetValue<string>().ShouldBe("processing");
            state["progress"].ShouldNotBeNull();
            again.Headers.Location!.ToString().ShouldBe($"/calculations/{id}");
        }

        var status = await StatusAsync(api);
        status["capacity"]!["processing"]!.GetValue<int>().ShouldBe(1, "the repeat took no second slot");
        (await api.CancelAsync(id))["status"]!.GetValue<string>().ShouldBe("cancelled");
    }

    [Fact]
    public async Task A_calculation_past_its_timeout_is_stopped_marked_timed_out_and_frees_its_slot()
    {
        var (service, api) = await StartAsync(await postgres.CreateDatabaseAsync(), managedMath: true);
        await using var _ = service;

        var id = await StartSlowAsync(api, timeoutSeconds: 1);
        var timedOut = await api.WaitForFinalAsync(id, Generous);

        timedOut["status"]!.GetValue<string>().ShouldBe("timed_out", service.Output);
        timedOut["error"]!.GetValue<string>().ShouldContain("timeout of 1 s");
        (timedOut["finishedAt"]!.GetValue<DateTimeOffset>() - timedOut["startedAt"]!.GetValue<DateTimeOffset>()).ShouldBeLessThan(TimeSpan.FromSeconds(15));
        await WaitUntilIdleAsync(api, service);
    }

    [Fact]
    public async Task A_long_calculation_reports_progress_while_processing()
    {
        var (service, api) = await StartAsync(await postgres.CreateDatabaseAsync(), managedMath: true);
        await using var _ = service;

        var id = await StartSlowAsync(api);
        var processing = await api.WaitForAsync(id, c => c["progress"]?.GetValue<int>() > 0, Generous);

        processing["status"]!.GetValue<string>().ShouldBe("processing");
        processing["progress"]!.GetValue<int>().ShouldBeInRange(1, 100);
        await api.CancelAsync(id);
    }

    [Fact]
    public async Task A_calculation_left_processing_by_a_killed_instance_is_taken_up_by_another_and_completed()
    {
        var database = await postgres.CreateDatabaseAsync();
        var fastRecovery = new[] { ("Calculations:LeaseSeconds", "3"), ("Calculations:RecoveryIntervalSeconds", "1") };
        var (doomed, doomedApi) = await StartAsync(database, managedMath: true, fastRecovery);
        string id;
        await using (doomed)
        {
            id = await StartSlowAsync(doomedApi);
            await doomedApi.WaitForAsync(id, c => c["status"]!.GetValue<string>() == "processing", Generous);
            await doomed.KillAsync(); // SIGKILL: no shutdown hook hands the calculation back
        }

        var (survivor, api) = await StartAsync(database, managedMath: false, fastRecovery);
        await using var _ = survivor;

        var done = await api.WaitForFinalAsync(id, Generous);

        done["status"]!.GetValue<string>().ShouldBe("done", survivor.Output);
        done["resultDigits"]!.GetValue<int>().ShouldBe(5_565_709); // digits of 1000000!
        await survivor.WaitForOutputAsync("taken up again");
    }

    [Fact]
    public async Task A_calculation_stopped_by_a_clean_shutdown_is_handed_back_at_once_not_after_its_lease()
    {
        var database = await postgres.CreateDatabaseAsync();
        var longLease = new[] { ("Calculations:LeaseSeconds", "600"), ("Calculations:RecoveryIntervalSeconds", "1") };
        var (stopping, stoppingApi) = await StartAsync(database, managedMath: true, longLease);
        string id;
        await using (stopping)
        {
            id = await StartSlowAsync(stoppingApi);
            await stoppingApi.WaitForAsync(id, c => c["status"]!.GetValue<string>() == "processing", Generous);
            await stopping.StopAsync();
        }

        var (survivor, api) = await StartAsync(database, managedMath: false, longLease);
        await using var _ = survivor;

        // Had the lease not been handed back, the survivor would wait 600 s for it to expire.
        var done = await api.WaitForFinalAsync(id, Generous);
        done["status"]!.GetValue<string>().ShouldBe("done", survivor.Output);
    }

    [Fact]
    public async Task Cancelling_through_one_instance_stops_the_calculation_running_on_another()
    {
        var database = await postgres.CreateDatabaseAsync();
        var quickRenewal = ("Calculations:LeaseSeconds", "3");
        var (runner, runnerApi) = await StartAsync(database, managedMath: true, quickRenewal);
        await using var _ = runner;
        var (other, otherApi) = await StartAsync(database, managedMath: true, quickRenewal);
        await using var __ = other;

        var id = await StartSlowAsync(runnerApi);
        (await otherApi.CancelAsync(id))["status"]!.GetValue<string>().ShouldBe("cancelled");

        // The runner notices at its next lease renewal (every LeaseSeconds / 3) and frees the slot.
        await WaitUntilIdleAsync(runnerApi, runner);
        (await runnerApi.GetAsync(id))["status"]!.GetValue<string>().ShouldBe("cancelled");
    }

    private static Task WaitUntilIdleAsync(CalculationsClient api, ServiceProcess service) =>
        Eventually.TrueAsync(async () => (await StatusAsync(api))["capacity"]!["processing"]!.GetValue<int>() == 0, Generous,
            "the instance to process nothing", () => service.Output);
}
