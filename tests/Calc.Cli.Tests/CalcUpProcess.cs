using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Calc.Testing;

namespace Calc.Cli.Tests;

/// <summary>
/// <c>calc up</c> as a user starts it, a process on a free gateway port with its SQLite files in a temporary directory.
/// It knows the PIDs of the apps it started from the lines <c>calc | started NAME (pid N)</c>, and the Aspire dashboard
/// listens on a free port too.
/// </summary>
public sealed partial class CalcUpProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly OutputTail _output = new();
    private readonly TempDirectory _data;
    private Process? _watchdog;

    private CalcUpProcess(Process process, Uri gateway, Uri aspireDashboard, TempDirectory data)
    {
        _process = process;
        Gateway = gateway;
        AspireDashboard = aspireDashboard;
        _data = data;
        _output.Attach(process);
        _watchdog = ProcessTools.KillWhenTestProcessDies(process);
    }

    public Uri Gateway { get; }

    /// <summary>Where the Aspire dashboard listens (its login URL with the token is in the output: <c>aspire: URL</c>).</summary>
    public Uri AspireDashboard { get; }

    public int ProcessId => _process.Id;

    public string Output => _output.ToString();

    /// <summary>name → PID of every app <c>calc up</c> reported starting.</summary>
    public IReadOnlyDictionary<string, int> Children =>
        StartedLine().Matches(Output).ToDictionary(m => m.Groups[1].Value, m => int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));

    /// <summary>Starts <c>calc up</c> and waits until it printed the dashboard URL (everything started and registered).</summary>
    public static async Task<CalcUpProcess> StartAsync(params string[] options)
    {
        var data = new TempDirectory("calc-up-test-");
        var gateway = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{ProcessTools.FreePort()}"));
        var aspireDashboard = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{ProcessTools.FreePort()}"));
        // A process started in the background by a non-interactive shell inherits SIGINT ignored (and .NET keeps it
        // so); `env --default-signal=INT` restores the disposition a terminal's foreground process has, so that the
        // test's SIGINT is the user's Ctrl+C.
        var start = new ProcessStartInfo("env")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])["--default-signal=INT", "dotnet", CalcCli.Assembly, "up", "--urls", gateway.ToString().TrimEnd('/'), "--aspire-urls", aspireDashboard.ToString().TrimEnd('/'), "--data-dir", data.Path, .. options])
        {
            start.ArgumentList.Add(argument);
        }

        var up = new CalcUpProcess(Process.Start(start)!, gateway, aspireDashboard, data);
        try
        {
            await up.WaitForOutputAsync("dashboard:", TimeSpan.FromSeconds(300));
            return up;
        }
        catch
        {
            await up.DisposeAsync();
            throw;
        }
    }

    public Task WaitForOutputAsync(string text, TimeSpan within) =>
        Eventually.TrueAsync(
            () => Output.Contains(text, StringComparison.Ordinal)
                || (_process.HasExited ? throw new InvalidOperationException($"calc up exited before it printed '{text}':\n{Output}") : false),
            within, $"calc up to print '{text}'", () => "\n" + Output, TimeSpan.FromMilliseconds(100));

    public void Signal(string signal) => ProcessTools.Signal(_process.Id, signal);

    /// <summary>Waits for <c>calc up</c> to exit and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"calc up did not exit within {within.TotalSeconds} s:\n{Output}");
        }

        // The exit event can come before the last lines of output: let them arrive.
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>Waits until none of <paramref name="pids"/> exists any more; returns those still alive at the deadline.</summary>
    public static async Task<int[]> WaitUntilGoneAsync(IEnumerable<int> pids, TimeSpan within)
    {
        try
        {
            await Eventually.TrueAsync(() => !pids.Any(ProcessTools.IsAlive), within, "the processes to exit", every: TimeSpan.FromMilliseconds(200));
            return [];
        }
        catch (TimeoutException)
        {
            return [.. pids.Where(ProcessTools.IsAlive)]; // the caller names the ones left
        }
    }

    public async ValueTask DisposeAsync()
    {
        var children = Children.Values.ToList();
        if (!_process.HasExited)
        {
            Signal("TERM");
            if (!_process.WaitForExit(60_000))
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        // Whatever a failed test left behind goes too, by PID.
        foreach (var pid in await WaitUntilGoneAsync(children, TimeSpan.FromSeconds(15)))
        {
            ProcessTools.Signal(pid, "KILL");
        }

        _process.Dispose();
        ProcessTools.Kill(ref _watchdog);
        _data.Dispose();
    }

    [GeneratedRegex(@"started (\S+) \(pid (\d+)\)")]
    private static partial Regex StartedLine();
}
