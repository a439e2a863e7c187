using Calc.Testing;

namespace Calc.Jobs.Tests;

/// <summary>Starts Jobs service processes on real Redis and RabbitMQ, sharing one database prefix and one queue.</summary>
public sealed class JobsDeployment(RedisServer redis, string rabbitMq)
{
    private readonly string _keyPrefix = redis.CreateKeyPrefix();

    public string QueueName { get; } = RabbitMqServer.UniqueName("jobs");

    public string RabbitMq => rabbitMq;

    /// <summary>Starts a process in <paramref name="role"/> (all, api, worker) with extra settings (<c>Section:Key</c>).</summary>
    public async Task<(ServiceProcess Process, JobsClient Api)> StartAsync(string role, string instanceId, params (string Key, string Value)[] settings)
    {
        var environment = new Dictionary<string, string?>
        {
            ["Role"] = role,
            ["Service__InstanceId"] = instanceId,
            ["Database__Provider"] = "redis",
            ["Database__ConnectionString"] = $"{redis.Endpoint},prefix={_keyPrefix}",
            ["Queue__Provider"] = "rabbitmq",
            ["Queue__ConnectionString"] = rabbitMq,
            ["Queue__RetryBaseDelay"] = "00:00:00.200",
            ["Queue__ReconnectInterval"] = "00:00:00.500",
            ["Jobs__QueueName"] = QueueName,
        };
        foreach (var (key, value) in settings)
        {
            environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var process = await ServiceProcess.StartAsync("services/Calc.Jobs", environment);
        return (process, new JobsClient(process.CreateClient()));
    }
}
