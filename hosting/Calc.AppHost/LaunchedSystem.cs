using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Aspire.Hosting.ApplicationModel;
using Calc.LocalServers;
using Calc.LocalServers.Launch;

namespace Calc.AppHost;

/// <summary>
/// The apps of this run as DCP started them: their resources, the PIDs DCP reported, and the ordered stop that
/// <c>calc up</c> promises. DCP on its own stops every resource at once; the gateway must outlive the services, which
/// deregister from it on SIGTERM, so the stop here signals the apps by PID, in order, before the host (and with it DCP)
/// stops the rest.
/// </summary>
internal sealed class LaunchedSystem(SystemSettings settings, IReadOnlyList<AppLaunch> apps, IReadOnlyDictionary<string, IResource> resources, LogWriter log)
{
    private readonly ConcurrentDictionary<string, int> _pids = new(StringComparer.Ordinal);
    private long _lastLineTicks = Stopwatch.GetTimestamp();

    public SystemSettings Settings => settings;

    public IReadOnlyList<AppLaunch> Apps => apps;

    public IReadOnlyDictionary<string, IResource> Resources => resources;

    public LogWriter Log => log;

    /// <summary>1 when the system did not start (the reason was printed), else 0.</summary>
    public int ExitCode { get; set; }

    /// <summary>Records the PID DCP reported for <paramref name="name"/>; returns the one it had before, null the first time.</summary>
    public int? Started(string name, int pid)
    {
        int? previous = _pids.TryGetValue(name, out var known) ? known : null;
        _pids[name] = pid;
        return previous;
    }

    public void Line(string name, string line)
    {
        Interlocked.Exchange(ref _lastLineTicks, Stopwatch.GetTimestamp());
        log.Line(name, line);
    }

    /// <summary>SIGTERM by PID, in order: services and workers side by side, then the gateway, then the cache; each is
    /// killed when it outlives its grace period. Then waits for their last log lines to be printed.</summary>
    public async Task StopInOrderAsync()
    {
        log.Info("stopping: services first (they deregister from the gateway), then the gateway and the cache");
        await Task.WhenAll(apps.Where(a => a.Role is AppRole.Service or AppRole.Worker).Select(StopAsync));
        foreach (var app in apps.Where(a => a.Role == AppRole.Gateway).Concat(apps.Where(a => a.Role == AppRole.Cache)))
        {
            await StopAsync(app);
        }

        // DCP streams each app's output from its log file: give the last lines (the deregistrations) time to arrive.
        var quiet = TimeSpan.FromSeconds(1);
        var clock = Stopwatch.StartNew();
        while (Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastLineTicks)) < quiet && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(100);
        }
    }

    /// <summary>SIGKILL every app at once (a second Ctrl+C).</summary>
    public void KillAll()
    {
        foreach (var pid in _pids.Values.Where(ProcessTools.IsAlive))
        {
            ProcessTools.Signal(pid, "KILL");
        }
    }

    private async Task StopAsync(AppLaunch app)
    {
        if (!_pids.TryGetValue(app.Name, out var pid) || !ProcessTools.IsAlive(pid))
        {
            return;
        }

        ProcessTools.Signal(pid, "TERM");
        var clock = Stopwatch.StartNew();
        while (ProcessTools.IsAlive(pid))
        {
            if (clock.Elapsed > app.StopGrace)
            {
                log.Info(string.Create(CultureInfo.InvariantCulture, $"{app.Name} did not stop within {app.StopGrace.TotalSeconds:0} s: killing it (pid {pid})"));
                ProcessTools.Signal(pid, "KILL");
                return;
            }

            await Task.Delay(100);
        }
    }
}
