using Aspire.Hosting.ApplicationModel;
using Calc.LocalServers.Launch;
using Microsoft.Extensions.Hosting;

namespace Calc.AppHost;

/// <summary>
/// Waits until every app is healthy (the cache accepts connections, the others answer <c>/health/ready</c>) and every
/// service instance is registered with the gateway, then prints the URLs. An app that exits while starting, or a
/// system not up within the limits, is reported and stops the run with exit code 1.
/// </summary>
internal sealed class StartupWatch(LaunchedSystem system, AspireDashboard dashboard, ResourceNotificationService notifications, OrderedStop stop) : BackgroundService
{
    private static readonly TimeSpan HealthyWithin = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan RegisteredWithin = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = system.Settings;
        try
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            limit.CancelAfter(HealthyWithin);
            await Task.WhenAll(system.Apps.Select(app => WaitHealthyAsync(app.Name, limit.Token)));
            await GatewayRegistrations.WaitAsync(settings.GatewayUrl, SystemPlan.ExpectedRegistrations(settings), RegisteredWithin, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return;
        }
        catch (Exception exception) when (exception is InvalidOperationException or TimeoutException or OperationCanceledException or HttpRequestException)
        {
            var reason = exception is OperationCanceledException ? $"not every app was healthy within {HealthyWithin.TotalSeconds:0} s" : exception.Message;
            await Console.Error.WriteLineAsync($"calc: the system did not start: {reason}");
            system.ExitCode = 1;
            stop.RequestStop();
            return;
        }

        var log = system.Log;
        log.Info($"Calc is up ({settings.Profile} profile, {settings.CalculationInstances} calculations instances, jobs{(settings.IsFull ? " api + worker" : "")})");
        log.Info($"gateway:   {settings.GatewayUrl}");
        log.Info($"dashboard: {settings.DashboardUrl}");
        log.Info($"aspire:    {dashboard.LoginUrl} (every app's logs, traces and metrics)");
        log.Info($"try:       calc --gateway {SystemSettings.Origin(settings.GatewayUrl)} submit factorial 100 --watch");
        log.Info("Ctrl+C stops everything");
    }

    private async Task WaitHealthyAsync(string name, CancellationToken cancellationToken)
    {
        var update = await notifications.WaitForResourceAsync(name,
            e => e.Snapshot.HealthStatus == Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy
                || KnownResourceStates.TerminalStates.Contains(e.Snapshot.State?.Text), cancellationToken);
        if (update.Snapshot.HealthStatus != Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy)
        {
            throw new InvalidOperationException($"{name} ended while starting ({update.Snapshot.State?.Text}, exit code {update.Snapshot.ExitCode}; its log is above)");
        }
    }
}
