using System.Net;
using System.Net.Http.Json;
using Calc.Testing;

namespace Calc.Jobs.Tests;

/// <summary>The API's rules on the embedded defaults (SQLite, in-process queue, workers in the service).</summary>
public sealed class JobsApiTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task A_budget_job_on_the_embedded_defaults_is_done_with_exact_cents_that_sum_to_the_budget()
    {
        await using var app = new JobsApp(_directory);
        var api = new JobsClient(app.CreateClient());

        var id = await api.CreateBudgetAsync(new { jobId = "campaign-42", daysOnline = 7, budget = 1000.00m });
        id.ShouldBe("campaign-42");
        var job = await api.WaitForFinalAsync(id);

        JobsClient.Status(job).ShouldBe("done");
        var amounts = JobsClient.Amounts(job);
        amounts.ShouldBe([142.86m, 142.86m, 142.86m, 142.86m, 142.86m, 142.85m, 142.85m]);
        amounts.Sum().ShouldBe(1000.00m);
    }

    [Fact]
    public async Task Invalid_input_is_a_400_naming_each_field()
    {
        await using var app = new JobsApp(_directory);
        var api = new JobsClient(app.CreateClient());

        var (status, problem) = await api.PostBudgetAsync(new { jobId = "no spaces", daysOnline = 0, budget = 1.234m, priority = "urgent", timeoutSeconds = 0 });

        status.ShouldBe(HttpStatusCode.BadRequest);
        problem["errors"]!.AsObject().Select(e => e.Key).Order(StringComparer.Ordinal)
            .ShouldBe(["budget", "daysOnline", "jobId", "priority", "timeoutSeconds"]);
        (await api.PostBudgetAsync(new { daysOnline = 3 })).Body["errors"]!["budget"].ShouldNotBeNull();
    }

    [Fact]
    public async Task A_job_id_in_use_is_a_409_and_an_unknown_one_a_404()
    {
        await using var app = new JobsApp(_directory);
        var api = new JobsClient(app.CreateClient());

        await api.CreateBudgetAsync(new { jobId = "twice", daysOnline = 1, budget = 1m });
        (await api.PostBudgetAsync(new { jobId = "twice", daysOnline = 1, budget = 1m })).Status.ShouldBe(HttpStatusCode.Conflict);
        await api.GetAsync("nope", HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_processing_job_can_be_cancelled_and_a_finished_one_cannot()
    {
        await using var app = new JobsApp(_directory, ("Jobs:ProcessingDelayMilliseconds", "30000"));
        var api = new JobsClient(app.CreateClient());

        var id = await api.CreateBudgetAsync(new { daysOnline = 2, budget = 10m });
        await api.WaitForAsync(id, j => JobsClient.Status(j) == "processing");
        JobsClient.Status(await api.CancelAsync(id)).ShouldBe("cancelled");

        await Task.Delay(300, TestContext.Current.CancellationToken);
        var job = await api.GetAsync(id);
        JobsClient.Status(job).ShouldBe("cancelled");
        job["budget"]!["distribution"].ShouldBeNull();
        (await api.StatusAsync())["capacity"]!["processing"]!.GetValue<int>().ShouldBe(0);
        await api.CancelAsync(id, HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task A_job_past_its_timeout_is_stopped_and_marked_timed_out()
    {
        await using var app = new JobsApp(_directory, ("Jobs:ProcessingDelayMilliseconds", "30000"));
        var api = new JobsClient(app.CreateClient());

        var id = await api.CreateBudgetAsync(new { daysOnline = 2, budget = 10m, timeoutSeconds = 1 });
        var job = await api.WaitForFinalAsync(id, TimeSpan.FromSeconds(15));

        JobsClient.Status(job).ShouldBe("timed_out");
        job["error"]!.GetValue<string>().ShouldContain("timeout of 1 s");
    }

    [Fact]
    public async Task Past_the_queue_limit_a_normal_job_gets_503_with_Retry_After_while_high_priority_keeps_its_reserved_places()
    {
        await using var app = new JobsApp(_directory,
            ("Jobs:ProcessingDelayMilliseconds", "30000"), ("Jobs:MaxQueued", "2"), ("Jobs:ReservedHighQueued", "1"),
            ("Capacity:Slots", "1"), ("Capacity:ReservedHigh", "0"), ("Capacity:RetryAfterSeconds", "7"));
        var api = new JobsClient(app.CreateClient());

        var running = await api.CreateBudgetAsync(new { daysOnline = 1, budget = 1m });
        await api.WaitForAsync(running, j => JobsClient.Status(j) == "processing");
        await api.CreateBudgetAsync(new { daysOnline = 1, budget = 1m }); // queued: the one place for normal jobs

        using (var refused = await api.Http.PostAsJsonAsync("/jobs/budget", new { daysOnline = 1, budget = 1m }, TestContext.Current.CancellationToken))
        {
            refused.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
            refused.Headers.RetryAfter!.Delta.ShouldBe(TimeSpan.FromSeconds(7));
        }

        await api.CreateBudgetAsync(new { daysOnline = 1, budget = 1m, priority = "high" });
        (await api.PostBudgetAsync(new { daysOnline = 1, budget = 1m, priority = "high" })).Status.ShouldBe(HttpStatusCode.ServiceUnavailable);
        (await api.StatusAsync())["jobs"]!["queued"]!.GetValue<long>().ShouldBe(2);
    }
}
