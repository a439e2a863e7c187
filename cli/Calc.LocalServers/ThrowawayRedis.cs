using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Calc.LocalServers;

/// <summary>
/// A throwaway Redis server, started from Debian's <c>/usr/bin/redis-server</c> on a free loopback port with
/// persistence off, or an existing server given as <c>host:port</c>. A watchdog kills it if this process dies without
/// stopping it. Give each user its own keys with <see cref="CreateKeyPrefix"/> (no SELECT: a prefix also isolates on a
/// shared or clustered server).
/// </summary>
public class ThrowawayRedis : IAsyncDisposable
{
    /// <summary>Where the server binary is looked for.</summary>
    public const string BinaryPath = "/usr/bin/redis-server";

    private const string BinaryNotFound =
        "redis-server not found: install the Debian package 'redis-server' (apt-get install -y redis-server)";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(20);

    private readonly OutputTail _output = new();
    private readonly Lock _gate = new();
    private readonly List<string> _prefixes = [];
    private Process? _process;
    private Process? _watchdog;
    private readonly string? _external;
    private readonly bool _stopOnCtrlC;
    private int _stopped;

    /// <summary>A server started here (<paramref name="externalEndpoint"/> null or empty) or an existing one.</summary>
    /// <param name="externalEndpoint"><c>host:port</c> of an existing server to use instead of starting one.</param>
    /// <param name="stopOnCtrlC">Stop the server as soon as Ctrl+C reaches this process (for a test run; a launcher that
    /// stops its apps first passes false and disposes the server itself).</param>
    public ThrowawayRedis(string? externalEndpoint = null, bool stopOnCtrlC = true)
    {
        _external = externalEndpoint;
        _stopOnCtrlC = stopOnCtrlC;
    }

    /// <summary><c>host:port</c> of the server.</summary>
    public string Endpoint { get; private set; } = "";

    /// <summary>The port of <see cref="Endpoint"/>.</summary>
    public int Port => int.Parse(Endpoint[(Endpoint.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture);

    /// <summary>True when the server is an existing one rather than started here.</summary>
    public bool IsExternal { get; private set; }

    /// <summary>What the started server printed (for failure messages).</summary>
    public string Output => _output.ToString();

    /// <summary>
    /// A key prefix no other caller gets (<c>calc-test:{guid}:</c>), for a test class's keys. On an external server the
    /// keys under every prefix handed out are deleted on dispose.
    /// </summary>
    public string CreateKeyPrefix()
    {
        var prefix = $"calc-test:{Guid.NewGuid():N}:";
        lock (_gate)
        {
            _prefixes.Add(prefix);
        }

        return prefix;
    }

    /// <summary>Starts the server (or takes the external one) and waits until it answers PING.</summary>
    public async ValueTask InitializeAsync()
    {
        var external = _external;
        if (!string.IsNullOrWhiteSpace(external))
        {
            IsExternal = true;
            Endpoint = external.Trim();
            await PingAsync(TimeSpan.FromSeconds(5));
            return;
        }

        if (!File.Exists(BinaryPath))
        {
            throw new InvalidOperationException(BinaryNotFound);
        }

        try
        {
            await StartAsync();
        }
        catch
        {
            // Clean up now rather than rely on the runner disposing a fixture that failed to start (Stop runs once).
            Stop();
            throw;
        }
    }

    /// <summary>Stops the started server by its PID; on an external server, deletes the keys of the prefixes handed out.</summary>
    public async ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        if (IsExternal)
        {
            string[] prefixes;
            lock (_gate)
            {
                prefixes = [.. _prefixes];
            }

            foreach (var prefix in prefixes)
            {
                // Best effort: a shared server keeps stray test keys rather than failing the run.
                try
                {
                    await SendAsync(DeleteKeysCommand(prefix), TimeSpan.FromSeconds(10));
                }
                catch (Exception exception) when (exception is IOException or SocketException or OperationCanceledException or InvalidOperationException)
                {
                }
            }

            return;
        }

        await Task.Run(Stop);
    }

    private async Task StartAsync()
    {
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
        if (_stopOnCtrlC)
        {
            Console.CancelKeyPress += OnCancelKeyPress;
        }

        const int attempts = 3;
        for (var attempt = 1; ; attempt++)
        {
            var port = ProcessTools.FreePort();
            Endpoint = string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{port}");
            StartProcess(port);
            try
            {
                await PingAsync(StartTimeout);
                StartWatchdog();
                return;
            }
            catch (InvalidOperationException) when (attempt < attempts && _process!.HasExited)
            {
                // Another process took the port between the probe and the server's bind.
                _process.Dispose();
                _process = null;
            }
        }
    }

    private void StartProcess(int port)
    {
        var start = new ProcessStartInfo(BinaryPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string[] arguments =
        [
            "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--daemonize", "no",
        ];
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {BinaryPath}.");
        _output.Attach(process);
        _process = process;
    }

    private async Task PingAsync(TimeSpan within)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                var reply = await SendAsync("*1\r\n$4\r\nPING\r\n", TimeSpan.FromSeconds(2));
                if (reply.StartsWith("+PONG", StringComparison.Ordinal))
                {
                    return;
                }

                throw new InvalidOperationException($"Redis at {Endpoint} answered PING with '{reply.TrimEnd()}'.");
            }
            catch (Exception exception) when (exception is SocketException or IOException or OperationCanceledException)
            {
                if (_process is { HasExited: true } || clock.Elapsed > within)
                {
                    throw new InvalidOperationException($"Redis did not answer on {Endpoint} within {within.TotalSeconds} s:\n{Output}", exception);
                }

                await Task.Delay(50);
            }
        }
    }

    /// <summary>Sends one encoded command on a new connection and returns the first line of the reply.</summary>
    private async Task<string> SendAsync(string command, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        var colon = Endpoint.LastIndexOf(':');
        using var client = new TcpClient();
        await client.ConnectAsync(Endpoint[..colon], int.Parse(Endpoint[(colon + 1)..], CultureInfo.InvariantCulture), cancel.Token);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.UTF8.GetBytes(command), cancel.Token);
        var buffer = new byte[512];
        var read = await stream.ReadAsync(buffer, cancel.Token);
        return read == 0 ? throw new IOException("The server closed the connection.") : Encoding.UTF8.GetString(buffer, 0, read);
    }

    private static string DeleteKeysCommand(string prefix)
    {
        const string script = "local n = 0 for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) n = n + 1 end return n";
        var pattern = prefix + "*";
        return $"*4\r\n$4\r\nEVAL\r\n${Encoding.UTF8.GetByteCount(script)}\r\n{script}\r\n$1\r\n0\r\n${Encoding.UTF8.GetByteCount(pattern)}\r\n{pattern}\r\n";
    }

    private void Stop()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }

        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        Console.CancelKeyPress -= OnCancelKeyPress;
        ProcessTools.Kill(ref _process);
        ProcessTools.Kill(ref _watchdog);
    }

    private void StartWatchdog() => _watchdog = ProcessTools.KillWhenTestProcessDies(_process!);

    private void OnProcessExit(object? sender, EventArgs e) => Stop();

    private void OnCancelKeyPress(object? sender, ConsoleCancelEventArgs e) => Stop();
}
