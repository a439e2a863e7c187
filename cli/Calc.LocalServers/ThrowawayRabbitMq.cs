using System.Diagnostics;
using System.Globalization;

namespace Calc.LocalServers;

/// <summary>
/// A throwaway RabbitMQ broker, started from Debian's <c>rabbitmq-server</c> package on free loopback ports (AMQP,
/// Erlang distribution and its own epmd), with its node name, data, logs and configuration in a temporary directory
/// (nothing under <c>/var/lib/rabbitmq</c> is touched); or an existing broker given by its AMQP URI. A watchdog stops
/// it if this process dies without stopping it. Give each user its own queue names with <see cref="UniqueName"/>.
/// </summary>
public class ThrowawayRabbitMq : IAsyncDisposable
{
    /// <summary>The server start script of Debian's package (run directly: no <c>su</c> to the rabbitmq user).</summary>
    public const string ServerScript = "/usr/lib/rabbitmq/bin/rabbitmq-server";

    /// <summary>The control tool of Debian's package.</summary>
    public const string ControlScript = "/usr/lib/rabbitmq/bin/rabbitmqctl";

    private const string BinaryNotFound =
        "rabbitmq-server not found: install the Debian package 'rabbitmq-server' (apt-get install -y rabbitmq-server)";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    private readonly OutputTail _output = new();
    private readonly Lock _gate = new();
    private TempDirectory? _directory;
    private Process? _server;
    private Process? _watchdog;
    private int _amqpPort;
    private int _distPort;
    private int _epmdPort;
    private string _nodeName = "";
    private readonly string? _external;
    private int _disposed;

    /// <summary>A broker started here (<paramref name="externalConnectionString"/> null or empty) or an existing one.</summary>
    /// <param name="externalConnectionString">The AMQP URI of an existing broker to use instead of starting one.</param>
    public ThrowawayRabbitMq(string? externalConnectionString = null)
    {
        _external = externalConnectionString;
    }

    /// <summary>The AMQP URI of the broker, e.g. <c>amqp://guest:guest@127.0.0.1:41234/</c>.</summary>
    public string ConnectionString { get; private set; } = "";

    /// <summary>True when the broker is an existing one rather than started here.</summary>
    public bool IsExternal { get; private set; }

    /// <summary>How long the last start took until the broker was ready (the fixture measures it for the test log).</summary>
    public TimeSpan StartDuration { get; private set; }

    /// <summary>What the started broker printed (for failure messages).</summary>
    public string Output => _output.ToString();

    /// <summary>A queue (or other) name no other caller gets: <paramref name="prefix"/> plus a random suffix.</summary>
    public static string UniqueName(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 200)];

    /// <summary>Starts the broker (or takes the external one) and waits until it is ready.</summary>
    public async ValueTask InitializeAsync()
    {
        var external = _external;
        if (!string.IsNullOrWhiteSpace(external))
        {
            IsExternal = true;
            ConnectionString = external.Trim();
            return;
        }

        if (!File.Exists(ServerScript) || !File.Exists(ControlScript))
        {
            throw new InvalidOperationException(BinaryNotFound);
        }

        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
        _directory = new TempDirectory("calc-rabbitmq-");
        _nodeName = $"calc-{Guid.NewGuid().ToString("N")[..12]}@localhost";
        const int attempts = 3;
        for (var attempt = 1; ; attempt++)
        {
            (_amqpPort, _distPort, _epmdPort) = (ProcessTools.FreePort(), ProcessTools.FreePort(), ProcessTools.FreePort());
            ConnectionString = string.Create(CultureInfo.InvariantCulture, $"amqp://guest:guest@127.0.0.1:{_amqpPort}/");
            WriteConfiguration();
            try
            {
                await StartAsync();
                StartWatchdog();
                return;
            }
            catch (InvalidOperationException) when (attempt < attempts && _server is { HasExited: true })
            {
                // A port was taken between the probe and the broker's bind: try other ports.
                await StopAsync();
            }
            catch
            {
                await DisposeAsync();
                throw;
            }
        }
    }

    /// <summary>
    /// Stops the broker and starts it again on the same ports with the same data, as an operator's restart does:
    /// durable queues and persistent messages survive it. Returns once it is ready again.
    /// </summary>
    public async Task RestartAsync()
    {
        if (IsExternal)
        {
            throw new InvalidOperationException("An existing broker (not started here) cannot be restarted.");
        }

        await StopAsync();
        await StartAsync();
        // The old watchdog watched the old start script's PID and has ended with it.
        ProcessTools.Kill(ref _watchdog);
        StartWatchdog();
    }

    /// <summary>Stops the broker (gracefully, then by PID), its epmd, and deletes its directory.</summary>
    public async ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        if (IsExternal || Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        await StopAsync();
        ProcessTools.Kill(ref _watchdog);
        _directory?.Dispose();
    }

    private void WriteConfiguration()
    {
        var directory = _directory!;
        File.WriteAllText(directory.Combine("enabled_plugins"), "[].\n");
        File.WriteAllText(directory.Combine("rabbitmq.conf"), string.Create(CultureInfo.InvariantCulture, $"""
            listeners.tcp.default = 127.0.0.1:{_amqpPort}
            loopback_users.guest = true
            log.console = true
            log.console.level = warning
            log.file = false
            """));
    }

    private Dictionary<string, string> BrokerEnvironment()
    {
        var directory = _directory!;
        return new Dictionary<string, string>
        {
            // The Erlang cookie lands in $HOME: a fresh one per broker, readable by this user only.
            ["HOME"] = directory.Path,
            ["RABBITMQ_NODENAME"] = _nodeName,
            ["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1",
            ["RABBITMQ_NODE_PORT"] = _amqpPort.ToString(CultureInfo.InvariantCulture),
            ["RABBITMQ_DIST_PORT"] = _distPort.ToString(CultureInfo.InvariantCulture),
            ["ERL_EPMD_PORT"] = _epmdPort.ToString(CultureInfo.InvariantCulture),
            ["ERL_EPMD_ADDRESS"] = "127.0.0.1",
            ["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"] = "-kernel inet_dist_use_interface {127,0,0,1}",
            ["RABBITMQ_MNESIA_BASE"] = directory.Combine("mnesia"),
            ["RABBITMQ_LOG_BASE"] = directory.Combine("log"),
            ["RABBITMQ_CONFIG_FILE"] = directory.Combine("rabbitmq.conf"),
            ["RABBITMQ_ENABLED_PLUGINS_FILE"] = directory.Combine("enabled_plugins"),
            ["RABBITMQ_PID_FILE"] = PidFile,
        };
    }

    private string PidFile => _directory!.Combine("rabbitmq.pid");

    private async Task StartAsync()
    {
        var clock = Stopwatch.StartNew();
        var start = new ProcessStartInfo(ServerScript)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in BrokerEnvironment())
        {
            start.Environment[key] = value;
        }

        var server = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {ServerScript}.");
        _output.Attach(server);
        _server = server;

        // `rabbitmqctl wait <pidfile>` returns once the node and its applications run (await_startup straight after
        // the start fails: the node is not known yet).
        var (exit, output) = await RunControlAsync(StartTimeout, "wait", PidFile, "--timeout", ((int)StartTimeout.TotalSeconds).ToString(CultureInfo.InvariantCulture));
        if (exit != 0 || server.HasExited)
        {
            throw new InvalidOperationException($"RabbitMQ did not start within {StartTimeout.TotalSeconds} s (rabbitmqctl wait exited {exit}):\n{output}\n{Output}");
        }

        StartDuration = clock.Elapsed;
    }

    private async Task StopAsync()
    {
        var server = _server;
        if (server is null)
        {
            return;
        }

        var beam = ReadBeamPid();
        if (!server.HasExited)
        {
            // The start script stops the node gracefully on TERM (rabbitmqctl stop), then exits.
            Signal(server.Id, "TERM");
            using var timeout = new CancellationTokenSource(StopTimeout);
            try
            {
                await server.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                ProcessTools.Kill(ref server);
            }
        }

        if (beam is { } pid && IsAlive(pid))
        {
            for (var i = 0; i < 100 && IsAlive(pid); i++)
            {
                await Task.Delay(100);
            }

            if (IsAlive(pid))
            {
                Signal(pid, "KILL");
            }
        }

        KillEpmd();
        _server?.Dispose();
        _server = null;
    }

    private int? ReadBeamPid()
    {
        try
        {
            return int.TryParse(File.ReadAllText(PidFile).Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid) ? pid : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    // epmd daemonizes and outlives the node; it belongs to this broker alone (its own port), so it goes too.
    private void KillEpmd()
    {
        var epmd = Directory.EnumerateFiles("/usr/lib/erlang", "epmd", SearchOption.AllDirectories).FirstOrDefault();
        if (epmd is null)
        {
            return;
        }

        var start = new ProcessStartInfo(epmd) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-port");
        start.ArgumentList.Add(_epmdPort.ToString(CultureInfo.InvariantCulture));
        start.ArgumentList.Add("-kill");
        using var process = Process.Start(start);
        process?.WaitForExit(5000);
    }

    private async Task<(int Exit, string Output)> RunControlAsync(TimeSpan limit, params string[] arguments)
    {
        var start = new ProcessStartInfo(ControlScript)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-n");
        start.ArgumentList.Add(_nodeName);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in BrokerEnvironment())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {ControlScript}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(limit + TimeSpan.FromSeconds(10));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return (-1, "rabbitmqctl did not finish in time");
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    // ProcessExit does not run when this process is killed: a detached shell waits for this process to go and then
    // stops the broker by the PIDs it was given (start script, then the node from its pid file) and its epmd.
    private void StartWatchdog() => _watchdog = ProcessTools.StartWatchdog(
        "calc-rabbitmq-watchdog",
        """
        i=0
        while [ "$i" -lt 86400 ] && [ -d "/proc/$1" ] && [ -d "/proc/$2" ]; do sleep 1; i=$((i+1)); done
        if [ -d "/proc/$2" ]; then
          beam=$(cat "$3" 2>/dev/null)
          kill -TERM "$2"
          j=0; while [ "$j" -lt 30 ] && [ -d "/proc/$2" ]; do sleep 1; j=$((j+1)); done
          if [ -n "$beam" ] && [ -d "/proc/$beam" ]; then kill -KILL "$beam"; fi
          epmd=$(ls /usr/lib/erlang/erts-*/bin/epmd 2>/dev/null | head -n 1)
          if [ -n "$epmd" ]; then "$epmd" -port "$4" -kill; fi
        fi
        """,
        _server!.Id.ToString(CultureInfo.InvariantCulture),
        PidFile,
        _epmdPort.ToString(CultureInfo.InvariantCulture));

    private void OnProcessExit(object? sender, EventArgs e)
    {
        lock (_gate)
        {
            StopAsync().GetAwaiter().GetResult();
        }
    }

    private static void Signal(int pid, string signal)
    {
        using var kill = Process.Start("kill", ["-s", signal, pid.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit(5000);
    }

    private static bool IsAlive(int pid) => Directory.Exists($"/proc/{pid}");
}
