using System.Net;
using Calc.Testing;

namespace Calc.Jobs.Tests;

/// <summary>Budget jobs end to end in the full profile: service processes on a real redis-server and RabbitMQ.</summary>
public sealed class BudgetJobsOnServersTests(RedisServer redis, RabbitMqServer broker)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_budget_job_goes_through_RabbitMQ_to_a_worker_and_its_result_expires_with_the_days_online()
    {
        var deployment = new JobsDeployment(redis, broker.ConnectionString);
        // One "day" online lasts two seconds here, so expiry can be watched (and a loaded machine still sees the job
        // done before its 6 s are up).
        var (process, api) = await deployment.StartAsync("all", "jobs-all", ("Jobs:DayLength", "00:00:02"));
        await using var _ = process;

        var created = DateTime.UtcNow;
        var id = await api.CreateBudgetAsync(new { daysOnline = 3, budget = 100.00m });
        var job = await api.WaitForFinalAsync(id);

        JobsClient.Status(job).ShouldBe("done", job.ToJsonString());
        JobsClient.Amounts(job).ShouldBe([33.34m, 33.33m, 33.33m]);
        JobsClient.Amounts(job).Sum().ShouldBe(100.00m);
        job["attempts"]!.GetValue<int>().ShouldBe(1);

        // Readable until it expires (3 × 2 s after creation), then gone: 404.
        var gone = await Eventually.ValueAsync(() => api.GetStatusCodeAsync(id), code => code != HttpStatusCode.OK, TimeSpan.FromSeconds(30),
            $"job {id} to expire", every: TimeSpan.FromMilliseconds(100), cancellationToken: Token);
        gone.ShouldBe(HttpStatusCode.NotFound);
        (DateTime.UtcNow - created).ShouldBeGreaterThan(TimeSpan.FromSeconds(5.5));
        var status = await api.StatusAsync();
        status["queue"]!["provider"]!.GetValue<string>().ShouldBe("rabbitmq");
        status["queue"]!["ready"]!.GetValue<long>().ShouldBe(0);
    }

    [Fact]
    public async Task A_poison_message_is_parked_and_not_delivered_again_while_good_jobs_keep_flowing()
    {
        var deployment = new JobsDeployment(redis, broker.ConnectionString);
        var (process, api) = await deployment.StartAsync("all", "jobs-poison", ("Queue:MaxDeliveries", "3"));
        await using var _ = process;

        var options = new Calc.Jobs.Queueing.QueueOptions { Provider = "rabbitmq", ConnectionString = broker.ConnectionString };
        await using (var client = new Calc.Jobs.Queueing.RabbitMqJobQueue(
            Microsoft.Extensions.Options.Options.Create(options), Microsoft.Extensions.Logging.Abstractions.NullLogger<Calc.Jobs.Queueing.RabbitMqJobQueue>.Instance))
        {
            await client.PublishAsync(deployment.QueueName, new Calc.Jobs.Queueing.QueueMessage("garbage", "not a job"u8.ToArray()), Token);
        }

        await Eventually.TrueAsync(async () => (await api.StatusAsync())["queue"]!["parked"]!.GetValue<long>() > 0, TimeSpan.FromSeconds(20),
            "the poison message to be parked", every: TimeSpan.FromMilliseconds(100), cancellationToken: Token);

        var id = await api.CreateBudgetAsync(new { daysOnline = 2, budget = 0.03m });
        JobsClient.Amounts(await api.WaitForFinalAsync(id)).ShouldBe([0.02m, 0.01m]);

        await Task.Delay(1000, Token);
        var queue = (await api.StatusAsync())["queue"]!;
        (queue["parked"]!.GetValue<long>(), queue["ready"]!.GetValue<long>()).ShouldBe((1L, 0L));
        await process.WaitForOutputAsync("parked");
    }
}
