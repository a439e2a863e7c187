using System.Globalization;
using System.Text.RegularExpressions;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Hosting;

namespace Calc.AppHost;

/// <summary>
/// Every app's output on this process's stdout, each line prefixed with the app's name (the Aspire dashboard shows the
/// same lines per resource), and a <c>started NAME (pid N) on URL</c> line as DCP reports each process.
/// </summary>
internal sealed partial class ConsoleLog(LaunchedSystem system, ResourceNotificationService notifications, ResourceLoggerService logs) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var forwards = system.Resources.Select(r => ForwardAsync(r.Key, r.Value, stoppingToken)).ToList();
        try
        {
            await foreach (var update in notifications.WatchAsync(stoppingToken))
            {
                var name = update.Resource.Name;
                var app = system.Apps.FirstOrDefault(a => a.Name == name);
                var pidValue = update.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value;
                // DCP reports 0 until the process exists.
                if (app is null || !int.TryParse(Convert.ToString(pidValue, CultureInfo.InvariantCulture), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid <= 0)
                {
                    continue;
                }

                switch (system.Started(name, pid))
                {
                    case null:
                        system.Log.Info(string.Create(CultureInfo.InvariantCulture, $"started {name} (pid {pid})") + (app.BaseAddress is { } url ? $" on {url}" : ""));
                        break;
                    case { } previous when previous != pid:
                        // Restarted (from the dashboard): worded so that it never reads as a second start of the name.
                        system.Log.Info(string.Create(CultureInfo.InvariantCulture, $"{name} runs as pid {pid} now (was {previous}; {update.Snapshot.State?.Text})"));
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping.
        }

        await Task.WhenAll(forwards);
    }

    private async Task ForwardAsync(string name, IResource resource, CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var batch in logs.WatchAsync(resource).WithCancellation(stoppingToken))
            {
                foreach (var line in batch)
                {
                    system.Line(name, Timestamp().Replace(line.Content, "", 1));
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping.
        }
    }

    // DCP's log lines start with the time it read them; the apps print their own.
    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z ")]
    private static partial Regex Timestamp();
}
