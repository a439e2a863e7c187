using System.Net;
using Calc.Testing;

namespace Calc.Jobs.Tests;

/// <summary>Nothing is lost: a worker killed mid-job, a broker restart. Separate API and worker processes.</summary>
public sealed class WorkerFailureTests(RedisServer redis, RabbitMqServer broker)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_job_whose_worker_is_killed_mid_job_completes_on_another_worker_and_its_result_is_stored_once()
    {
        var deployment = new JobsDeployment(redis, broker.ConnectionString);
        var apiStart = deployment.StartAsync("api", "jobs-api");
        var workerAStart = deployment.StartAsync("worker", "worker-a", ("Jobs:ProcessingDelayMilliseconds", "60000"));
        var (apiProcess, api) = await apiStart;
        await using var _ = apiProcess;
        var (workerA, _) = await workerAStart;
        await using var __ = workerA;

        var id = await api.CreateBudgetAsync(new { daysOnline = 4, budget = 99.99m });
        await api.WaitForAsync(id, j => JobsClient.Status(j) == "processing" && j["worker"]?.GetValue<string>() == "worker-a");

        await workerA.KillAsync();
        var (workerB, _) = await deployment.StartAsync("worker", "worker-b");
        await using var ___ = workerB;
        var job = await api.WaitForFinalAsync(id);

        JobsClient.Status(job).ShouldBe("done", job.ToJsonString());
        job["worker"]!.GetValue<string>().ShouldBe("worker-b");
        job["attempts"]!.GetValue<int>().ShouldBe(2);
        JobsClient.Amounts(job).ShouldBe([25.00m, 25.00m, 25.00m, 24.99m]);

        // Once: the message is settled (nothing ready or parked), the job is one done job, and it stays as stored.
        await Task.Delay(500, Token);
        var status = await api.StatusAsync();
        status["jobs"]!["done"]!.GetValue<long>().ShouldBe(1);
        status["queue"]!["ready"]!.GetValue<long>().ShouldBe(0);
        status["queue"]!["parked"]!.GetValue<long>().ShouldBe(0);
        (await api.GetAsync(id)).ToJsonString().ShouldBe(job.ToJsonString());
    }

    [Fact]
    public async Task A_worker_asked_to_stop_hands_its_running_job_back_to_the_queue_for_another_worker()
    {
        var deployment = new JobsDeployment(redis, broker.ConnectionString);
        var apiStart = deployment.StartAsync("api", "jobs-api");
        var workerAStart = deployment.StartAsync("worker", "worker-a", ("Jobs:ProcessingDelayMilliseconds", "60000"));
        var (apiProcess, api) = await apiStart;
        await using var _ = apiProcess;
        var (workerA, _) = await workerAStart;
        await using var __ = workerA;

        var id = await api.CreateBudgetAsync(new { daysOnline = 2, budget = 5m });
        await api.WaitForAsync(id, j => JobsClient.Status(j) == "processing" && j["worker"]?.GetValue<string>() == "worker-a");

        await workerA.StopAsync(TimeSpan.FromSeconds(20));
        var handedBack = await api.GetAsync(id);
        JobsClient.Status(handedBack).ShouldBe("queued", handedBack.ToJsonString());

        var (workerB, _) = await deployment.StartAsync("worker", "worker-b");
        await using var ___ = workerB;
        var job = await api.WaitForFinalAsync(id);
        (JobsClient.Status(job), job["worker"]!.GetValue<string>()).ShouldBe(("done", "worker-b"));
        JobsClient.Amounts(job).ShouldBe([2.50m, 2.50m]);
        (await api.StatusAsync())["queue"]!["parked"]!.GetValue<long>().ShouldBe(0);
    }

    [Fact]
    public async Task Restarting_RabbitMQ_loses_no_accepted_job()
    {
        // This test restarts its broker, so it has one of its own.
        await using var ownBroker = new RabbitMqServer();
        await ownBroker.InitializeAsync();
        TestContext.Current.SendDiagnosticMessage($"RabbitMQ started in {ownBroker.StartDuration.TotalSeconds:F1} s");

        var deployment = new JobsDeployment(redis, ownBroker.ConnectionString);
        var apiStart = deployment.StartAsync("api", "jobs-api");
        var workerStart = deployment.StartAsync("worker", "worker", ("Jobs:ProcessingDelayMilliseconds", "200"), ("Capacity:Slots", "2"), ("Capacity:ReservedHigh", "0"));
        var (apiProcess, api) = await apiStart;
        await using var _ = apiProcess;
        var (worker, _) = await workerStart;
        await using var __ = worker;

        var accepted = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            accepted.Add(await api.CreateBudgetAsync(new { daysOnline = 5, budget = 10m + i }));
        }

        await ownBroker.RestartAsync();
        TestContext.Current.SendDiagnosticMessage($"RabbitMQ restarted in {ownBroker.StartDuration.TotalSeconds:F1} s");

        // While the connections recover, new jobs may be refused with 503 (not stored); those accepted must all finish.
        var acceptedAfterRestart = 0;
        await Eventually.TrueAsync(
            async () =>
            {
                var (status, body) = await api.PostBudgetAsync(new { daysOnline = 5, budget = 100m + acceptedAfterRestart });
                if (status != HttpStatusCode.Accepted)
                {
                    status.ShouldBe(HttpStatusCode.ServiceUnavailable, body.ToJsonString());
                    return false;
                }

                accepted.Add(body["id"]!.GetValue<string>());
                return ++acceptedAfterRestart == 5;
            },
            TimeSpan.FromSeconds(30), "5 jobs accepted while the connections recover", every: TimeSpan.FromMilliseconds(200), cancellationToken: Token);

        accepted.Count.ShouldBe(25);
        foreach (var id in accepted)
        {
            var job = await api.WaitForFinalAsync(id, TimeSpan.FromSeconds(60));
            JobsClient.Status(job).ShouldBe("done", job.ToJsonString());
        }
    }
}
