using System.Diagnostics;
using System.Globalization;
using System.Net;
using Calc.LocalServers;

namespace Calc.Cli.Up;

/// <summary>
/// One app of the system (cache, gateway, a service instance) run from its build output (<c>dotnet &lt;dll&gt;</c>) as a
/// child of <c>calc up</c>, its output prefixed with its name. It runs in a session of its own, so a Ctrl+C at the
/// terminal reaches only <c>calc up</c>, which then stops the apps in order (services before the gateway they
/// deregister from). A watchdog stops it if <c>calc up</c> itself is killed.
/// </summary>
internal sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly LogWriter _log;
    private Process? _watchdog;
    private volatile bool _stopping;

    private ChildProcess(string name, Process process, LogWriter log, Uri? baseAddress)
    {
        Name = name;
        _process = process;
        _log = log;
        BaseAddress = baseAddress;
    }

    public string Name { get; }

    public int ProcessId => _process.Id;

    public Uri? BaseAddress { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>Starts <c>dotnet &lt;the project's dll&gt; arguments...</c> with the given environment on top of this one's.</summary>
    public static ChildProcess Start(
        string name, string projectDirectory, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment, LogWriter log, Uri? baseAddress)
    {
        var assembly = BuildOutput.Find(projectDirectory);
        // setsid gives the child its own session (and, not being a group leader, it execs without forking: same PID).
        var setsid = File.Exists("/usr/bin/setsid");
        var start = new ProcessStartInfo(setsid ? "/usr/bin/setsid" : "dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(assembly)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])[.. setsid ? ["dotnet"] : Array.Empty<string>(), assembly, .. arguments])
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {name}.");
        var child = new ChildProcess(name, process, log, baseAddress);
        process.OutputDataReceived += (_, e) => child.Print(e.Data);
        process.ErrorDataReceived += (_, e) => child.Print(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => child.OnExited();
        child._watchdog = ProcessTools.StopWhenThisProcessDies(process, TimeSpan.FromSeconds(10));
        log.Info(string.Create(CultureInfo.InvariantCulture, $"started {name} (pid {process.Id})") + (baseAddress is null ? "" : $" on {baseAddress}"));
        return child;
    }

    /// <summary>Waits until <c>/health/ready</c> answers 200 (failing early when the process exits).</summary>
    public async Task WaitUntilReadyAsync(TimeSpan limit, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < limit)
        {
            ThrowIfExited();
            try
            {
                using var response = await http.GetAsync(new Uri("/health/ready", UriKind.Relative), cancellationToken);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // Slow to answer while starting.
            }

            await Task.Delay(200, cancellationToken);
        }

        throw new TimeoutException($"{Name} was not ready within {limit.TotalSeconds:0} s");
    }

    /// <summary>Waits until <paramref name="port"/> accepts connections (for the cache, which has no HTTP).</summary>
    public async Task WaitForTcpAsync(int port, TimeSpan limit, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < limit)
        {
            ThrowIfExited();
            try
            {
                using var client = new System.Net.Sockets.TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
                return;
            }
            catch (System.Net.Sockets.SocketException)
            {
                await Task.Delay(100, cancellationToken);
            }
        }

        throw new TimeoutException($"{Name} did not accept connections on port {port} within {limit.TotalSeconds:0} s");
    }

    /// <summary>SIGTERM (the app deregisters and hands its work back), then SIGKILL if it has not ended within <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        _stopping = true;
        if (!_process.HasExited)
        {
            ProcessTools.Signal(_process.Id, "TERM");
            using var timeout = new CancellationTokenSource(grace);
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                _log.Info($"{Name} did not stop within {grace.TotalSeconds:0} s: killing it");
                Kill();
            }
        }

        ProcessTools.Kill(ref _watchdog);
    }

    /// <summary>SIGKILL at once, by PID.</summary>
    public void Kill()
    {
        _stopping = true;
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // It had already ended.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(5));
        _process.Dispose();
    }

    private void ThrowIfExited()
    {
        if (_process.HasExited)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"{Name} exited with code {_process.ExitCode} while starting (its log is above)"));
        }
    }

    private void Print(string? line)
    {
        if (line is not null)
        {
            _log.Line(Name, line);
        }
    }

    private void OnExited()
    {
        if (!_stopping)
        {
            _log.Info(string.Create(CultureInfo.InvariantCulture, $"{Name} exited unexpectedly with code {_process.ExitCode}; the rest keeps running (Ctrl+C stops everything)"));
        }
    }
}
