using Calc.Core.Scheduling;

namespace Calc.Calculations.Processing;

/// <summary>
/// On shutdown, stops taking work and hands running calculations back (they stay processing with an expired lease,
/// so another instance, or this one after a restart, takes them up at once). Registered last so it stops first.
/// </summary>
internal sealed class SchedulerShutdown(WorkScheduler scheduler) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => scheduler.ShutdownAsync(TimeSpan.FromSeconds(5));
}
