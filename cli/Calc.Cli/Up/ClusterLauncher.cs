using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Calc.LocalServers;

namespace Calc.Cli.Up;

/// <summary>
/// Starts the whole system on this machine, wired through discovery, and stops it again in order:
/// <list type="number">
/// <item>full profile only: throwaway PostgreSQL, Redis and RabbitMQ (side by side);</item>
/// <item>the cache (Calc.Cache: the gateway's registry), then the gateway on <see cref="UpSettings.GatewayUrl"/>;</item>
/// <item>the services, each registering with the gateway (<c>Gateway:Url</c>, <c>Internal:Key</c>): Calculations ×N on one
/// database, and Jobs: one process with API and workers on the embedded in-process queue (that queue lives inside one
/// process, so a separate worker process could never receive its messages), or on RabbitMQ an API process and a
/// worker process.</item>
/// </list>
/// Stopping goes the other way: services first (SIGTERM: they deregister and hand running work back), then the
/// gateway, the cache and the servers; anything that outlives its grace period is killed by PID.
/// </summary>
internal sealed class ClusterLauncher(UpSettings settings, LogWriter log) : IAsyncDisposable
{
    private static readonly TimeSpan ReadyWithin = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan ServerStartWithin = TimeSpan.FromSeconds(120);
    private readonly string _internalKey = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
    private readonly List<ChildProcess> _services = [];
    private readonly Lock _gate = new();
    private ChildProcess? _gateway;
    private ChildProcess? _cache;
    private ThrowawayPostgres? _postgres;
    private ThrowawayRedis? _redis;
    private ThrowawayRabbitMq? _rabbitMq;
    private int _stopped;

    /// <summary>Every process started so far (for the watchdog test and for a forced stop).</summary>
    public IReadOnlyList<ChildProcess> Children
    {
        get
        {
            lock (_gate)
            {
                return [.. _services, .. new[] { _gateway, _cache }.OfType<ChildProcess>()];
            }
        }
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        EnsureGatewayAddressFree();
        var (calculationsDatabase, jobsDatabase, queue) = settings.IsFull
            ? await StartServersAsync(cancellationToken)
            : EmbeddedStorage();

        var cachePort = ProcessTools.FreePort();
        _cache = ChildProcess.Start("cache", "cache/Calc.Cache",
            ["--port", cachePort.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1"], AppEnvironment(), log, null);
        await _cache.WaitForTcpAsync(cachePort, ReadyWithin, cancellationToken);

        var gatewayEnvironment = AppEnvironment(
            ("Cache__Endpoint", string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{cachePort}")),
            ("Internal__Key", _internalKey));
        _gateway = ChildProcess.Start("gateway", "gateway/Calc.Gateway", ["--urls", Origin(settings.GatewayUrl)], gatewayEnvironment, log, settings.GatewayUrl);
        await _gateway.WaitUntilReadyAsync(ReadyWithin, cancellationToken);

        for (var i = 1; i <= settings.CalculationInstances; i++)
        {
            StartService($"calculations-{i}", "services/Calc.Calculations", [], registers: true, calculationsDatabase);
        }

        if (settings.IsFull)
        {
            StartService("jobs-api", "services/Calc.Jobs", ["--role", "api"], registers: true, [.. jobsDatabase, .. queue]);
            // Not registered: the gateway would route /jobs requests to it, and a worker serves none.
            StartService("jobs-worker", "services/Calc.Jobs", ["--role", "worker"], registers: false, [.. jobsDatabase, .. queue]);
        }
        else
        {
            StartService("jobs", "services/Calc.Jobs", ["--role", "all"], registers: true, [.. jobsDatabase, .. queue]);
        }

        await Task.WhenAll(_services.Select(s => s.WaitUntilReadyAsync(ReadyWithin, cancellationToken)));
        await WaitUntilRegisteredAsync(cancellationToken);
    }

    /// <summary>Stops everything, in order; safe to call more than once.</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1 || (_cache is null && _postgres is null && _redis is null && _rabbitMq is null))
        {
            return;
        }

        log.Info("stopping: services first (they deregister from the gateway), then the gateway and the cache");
        await Task.WhenAll(_services.Select(s => s.StopAsync(TimeSpan.FromSeconds(20))));
        if (_gateway is not null)
        {
            await _gateway.StopAsync(TimeSpan.FromSeconds(10));
        }

        if (_cache is not null)
        {
            await _cache.StopAsync(TimeSpan.FromSeconds(10));
        }

        var servers = new List<Task>();
        if (_rabbitMq is not null)
        {
            log.Info("stopping RabbitMQ");
            servers.Add(_rabbitMq.DisposeAsync().AsTask());
        }

        if (_redis is not null)
        {
            log.Info("stopping Redis");
            servers.Add(_redis.DisposeAsync().AsTask());
        }

        if (_postgres is not null)
        {
            log.Info("stopping PostgreSQL");
            servers.Add(_postgres.DisposeAsync().AsTask());
        }

        await Task.WhenAll(servers);
        log.Info("stopped");
    }

    /// <summary>Kills every app at once (a second Ctrl+C); the servers still stop in <see cref="StopAsync"/>.</summary>
    public void KillApps()
    {
        foreach (var child in Children)
        {
            child.Kill();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        foreach (var child in Children)
        {
            await child.DisposeAsync();
        }
    }

    private void StartService(string name, string project, string[] arguments, bool registers, IEnumerable<(string, string)> storage)
    {
        var port = ProcessTools.FreePort();
        var baseAddress = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}"));
        // A local cluster's callback receivers run on this machine too: loopback, which callbacks refuse by default.
        List<(string, string)> environment =
        [
            ("Service__InstanceId", name), ("Internal__Key", _internalKey),
            ("Callbacks__AllowedNetworks__0", "127.0.0.0/8"), ("Callbacks__AllowedNetworks__1", "::1/128"),
            .. storage,
        ];
        if (registers)
        {
            environment.Add(("Gateway__Url", Origin(settings.GatewayUrl)));
        }

        var child = ChildProcess.Start(name, project, [.. arguments, "--urls", Origin(baseAddress)], AppEnvironment([.. environment]), log, baseAddress);
        lock (_gate)
        {
            _services.Add(child);
        }
    }

    private (IEnumerable<(string, string)>, IEnumerable<(string, string)>, IEnumerable<(string, string)>) EmbeddedStorage()
    {
        Directory.CreateDirectory(settings.DataDirectory);
        log.Info($"embedded profile: SQLite files in {settings.DataDirectory}, the in-process job queue");
        return (
            [("Database__Provider", "sqlite"), ("Database__ConnectionString", $"Data Source={Path.Combine(settings.DataDirectory, "calculations.db")}")],
            [("Database__Provider", "sqlite"), ("Database__ConnectionString", $"Data Source={Path.Combine(settings.DataDirectory, "jobs.db")}")],
            [("Queue__Provider", "inprocess")]);
    }

    private async Task<(IEnumerable<(string, string)>, IEnumerable<(string, string)>, IEnumerable<(string, string)>)> StartServersAsync(CancellationToken cancellationToken)
    {
        log.Info("full profile: starting throwaway PostgreSQL, Redis and RabbitMQ (their data is deleted when calc up stops)");
        _postgres = new ThrowawayPostgres(stopOnCtrlC: false);
        _redis = new ThrowawayRedis(stopOnCtrlC: false);
        _rabbitMq = new ThrowawayRabbitMq();
        var postgres = _postgres.InitializeAsync().AsTask();
        var redis = _redis.InitializeAsync().AsTask();
        var rabbitMq = _rabbitMq.InitializeAsync().AsTask();
        await Task.WhenAll(postgres, redis, rabbitMq).WaitAsync(ServerStartWithin, cancellationToken);
        var database = await _postgres.CreateDatabaseAsync("calc");
        log.Info($"PostgreSQL: {new Npgsql.NpgsqlConnectionStringBuilder(database) { Password = null }.ConnectionString}");
        log.Info($"Redis: {_redis.Endpoint}");
        log.Info($"RabbitMQ: {_rabbitMq.ConnectionString} (started in {_rabbitMq.StartDuration.TotalSeconds:0.0} s)");
        return (
            [("Database__Provider", "postgres"), ("Database__ConnectionString", database)],
            [("Database__Provider", "redis"), ("Database__ConnectionString", _redis.Endpoint)],
            [("Queue__Provider", "rabbitmq"), ("Queue__ConnectionString", _rabbitMq.ConnectionString)]);
    }

    // Every instance registered (a heartbeat away after it is ready): only then is the banner true.
    private async Task WaitUntilRegisteredAsync(CancellationToken cancellationToken)
    {
        var expected = new Dictionary<string, int> { ["calculations"] = settings.CalculationInstances, ["jobs"] = 1 };
        using var http = new HttpClient { BaseAddress = settings.GatewayUrl, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
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
            catch (HttpRequestException)
            {
                // Asked again below.
            }

            if (expected.All(e => counts.GetValueOrDefault(e.Key) >= e.Value))
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The services did not all register with the gateway within 30 s: "
                    + string.Join(", ", expected.Select(e => $"{e.Key} {counts.GetValueOrDefault(e.Key)}/{e.Value}")));
            }

            await Task.Delay(250, cancellationToken);
        }
    }

    private void EnsureGatewayAddressFree()
    {
        var host = settings.GatewayUrl.Host;
        var address = host is "localhost" ? IPAddress.Loopback : IPAddress.TryParse(host, out var parsed) ? parsed : null;
        if (address is null)
        {
            return;
        }

        try
        {
            using var listener = new TcpListener(address, settings.GatewayUrl.Port);
            listener.Start();
        }
        catch (SocketException exception)
        {
            throw new CliException(ExitCodes.Unavailable,
                $"cannot listen on {Origin(settings.GatewayUrl)} ({exception.Message}): is another calc up running? Choose another address with --urls");
        }
    }

    private static string Origin(Uri url) => url.GetLeftPart(UriPartial.Authority);

    private static Dictionary<string, string> AppEnvironment(params (string Key, string Value)[] settings)
    {
        var environment = new Dictionary<string, string>
        {
            // One readable line per entry (the JSON lines of production logging are for machines).
            ["Logging__Console__FormatterName"] = "simple",
            ["Logging__Console__FormatterOptions__SingleLine"] = "true",
            ["Logging__Console__FormatterOptions__TimestampFormat"] = "HH:mm:ss ",
            ["DOTNET_NOLOGO"] = "1",
        };
        foreach (var (key, value) in settings)
        {
            environment[key] = value;
        }

        return environment;
    }
}
