namespace Calc.LocalServers.Launch;

/// <summary>
/// The full profile's throwaway PostgreSQL, Redis and RabbitMQ, started side by side from the machine's binaries on
/// free loopback ports (their data is deleted when they stop). Their watchdogs stop them if the launcher dies
/// without disposing them.
/// </summary>
public sealed class FullProfileServers(LogWriter log) : IAsyncDisposable
{
    private static readonly TimeSpan StartWithin = TimeSpan.FromSeconds(120);
    private readonly ThrowawayPostgres _postgres = new(stopOnCtrlC: false);
    private readonly ThrowawayRedis _redis = new(stopOnCtrlC: false);
    private readonly ThrowawayRabbitMq _rabbitMq = new();

    /// <summary>Starts the three servers and returns the settings that point the services at them.</summary>
    public async Task<StorageWiring> StartAsync(CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(log);
        log.Info("full profile: starting throwaway PostgreSQL, Redis and RabbitMQ (their data is deleted when calc up stops)");
        await Task.WhenAll(_postgres.InitializeAsync().AsTask(), _redis.InitializeAsync().AsTask(), _rabbitMq.InitializeAsync().AsTask())
            .WaitAsync(StartWithin, cancellationToken);
        var database = await _postgres.CreateDatabaseAsync("calc");
        log.Info($"PostgreSQL: {new Npgsql.NpgsqlConnectionStringBuilder(database) { Password = null }.ConnectionString}");
        log.Info($"Redis: {_redis.Endpoint}");
        log.Info($"RabbitMQ: {_rabbitMq.ConnectionString} (started in {_rabbitMq.StartDuration.TotalSeconds:0.0} s)");
        return new(
            new Dictionary<string, string> { ["Database__Provider"] = "postgres", ["Database__ConnectionString"] = database },
            new Dictionary<string, string> { ["Database__Provider"] = "redis", ["Database__ConnectionString"] = _redis.Endpoint },
            new Dictionary<string, string> { ["Queue__Provider"] = "rabbitmq", ["Queue__ConnectionString"] = _rabbitMq.ConnectionString });
    }

    /// <summary>Stops the three servers (side by side) and deletes their data.</summary>
    public async ValueTask DisposeAsync()
    {
        log.Info("stopping RabbitMQ, Redis and PostgreSQL");
        await Task.WhenAll(_rabbitMq.DisposeAsync().AsTask(), _redis.DisposeAsync().AsTask(), _postgres.DisposeAsync().AsTask());
    }
}
