using System.Diagnostics;
using System.Net;

namespace Calc.Testing;

/// <summary>
/// A Calc app (service or gateway) started as a real process on a free loopback port, from the build output of its
/// project; for tests that kill instances, restart them, or run several side by side. Killed on dispose.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly OutputTail _output = new();
    private Process? _watchdog;
    private int _disposed;

    private ServiceProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
        _output.Attach(process);
        _watchdog = ProcessTools.KillWhenTestProcessDies(process);
    }

    public Uri BaseAddress { get; }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>What the process printed so far (for assertion messages).</summary>
    public string Output => _output.ToString();

    /// <summary>
    /// Waits until the process has printed <paramref name="text"/> (its log lines reach us asynchronously, after the
    /// fact they report: assert on them through this, not on <see cref="Output"/> directly).
    /// </summary>
    public Task WaitForOutputAsync(string text, TimeSpan? within = null) =>
        Eventually.TrueAsync(() => Output.Contains(text, StringComparison.OrdinalIgnoreCase), within ?? TimeSpan.FromSeconds(10),
            $"the process to print '{text}'", () => "\n" + Output, cancellationToken: CancellationToken.None);

    /// <summary>
    /// Starts the app built from <paramref name="projectDirectory"/> (relative to the repository root, e.g.
    /// <c>services/Calc.Calculations</c>) and waits until <c>/health/ready</c> answers 200.
    /// </summary>
    public static async Task<ServiceProcess> StartAsync(string projectDirectory, IReadOnlyDictionary<string, string?> environment, TimeSpan? readyWithin = null)
    {
        var assembly = BuildOutput.Find(projectDirectory);
        var port = ProcessTools.FreePort();
        var baseAddress = new Uri($"http://127.0.0.1:{port}");
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { assembly, "--urls", baseAddress.ToString().TrimEnd('/') },
            WorkingDirectory = Path.GetDirectoryName(assembly)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Testing";
        start.Environment["Logging__Console__FormatterName"] = "simple";
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var service = new ServiceProcess(Process.Start(start)!, baseAddress);
        try
        {
            await service.WaitUntilReadyAsync(readyWithin ?? TimeSpan.FromSeconds(30));
            return service;
        }
        catch
        {
            await service.DisposeAsync();
            throw;
        }
    }

    public HttpClient CreateClient() => new() { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };

    /// <summary>Kills the process at once (SIGKILL): no shutdown hooks run, as when a machine dies.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
    }

    /// <summary>Asks the process to stop (SIGTERM, as an orchestrator does) and waits for it to exit.</summary>
    public async Task StopAsync(TimeSpan? within = null)
    {
        if (_process.HasExited)
        {
            return;
        }

        using (var kill = Process.Start("kill", ["-s", "TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(within ?? TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(timeout.Token);
    }

    /// <summary>Kills the process and its watchdog; a second call does nothing (a test and its fixture may both dispose it).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await KillAsync();
        _process.Dispose();
        ProcessTools.Kill(ref _watchdog);
    }

    private async Task WaitUntilReadyAsync(TimeSpan limit)
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        await Eventually.TrueAsync(IsReadyAsync, limit, "/health/ready to answer 200", () => "\n" + Output, TimeSpan.FromMilliseconds(100), CancellationToken.None);

        async Task<bool> IsReadyAsync()
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The process exited with code {_process.ExitCode} before it was ready:\n{Output}");
            }

            try
            {
                using var response = await http.GetAsync(new Uri("/health/ready", UriKind.Relative));
                return response.StatusCode == HttpStatusCode.OK;
            }
            catch (HttpRequestException)
            {
                return false; // not listening yet
            }
            catch (TaskCanceledException)
            {
                return false; // slow to answer while starting
            }
        }
    }
}
