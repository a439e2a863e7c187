using Calc.Calculations.Contracts;
using Calc.Calculations.Domain;
using Calc.Core.Hosting;
using Calc.Core.Scheduling;
using Calc.Data;
using Microsoft.Extensions.Options;

namespace Calc.Calculations.Processing;

/// <summary>
/// Keeps this instance's leases alive on the calculations it is processing (and stores their progress, so any
/// instance can show it). A calculation that was cancelled or taken over elsewhere is stopped here.
/// </summary>
internal sealed partial class LeaseRenewer(
    IDocumentRepository<Calculation> repository,
    WorkScheduler scheduler,
    CalculationProcessor processor,
    ServiceIdentity identity,
    IOptions<CalculationsOptions> options,
    TimeProvider time,
    ILogger<LeaseRenewer> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.Lease / 3, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            foreach (var id in scheduler.RunningIds)
            {
                try
                {
                    await RenewAsync(id, stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogRenewFailed(logger, ex, id);
                }
            }
        }
    }

    private async Task RenewAsync(string id, CancellationToken cancellationToken)
    {
        using var activity = CalculationsTelemetry.Source.StartActivity("lease renew");
        activity?.SetTag("calc.calculation_id", id);
        var now = time.GetUtcNow();
        var result = await repository.ChangeAsync(id, c => c.Status == CalculationStatus.Processing && c.LeaseOwner == identity.InstanceId
            ? c with { LeaseExpiresAt = now + options.Value.Lease, Progress = processor.LocalProgress(id) ?? c.Progress }
            : null, cancellationToken);
        if (result is null || !result.Changed)
        {
            activity?.SetTag("calc.lease.lost", true);
            scheduler.Stop(id, StopReason.Cancelled);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not renew the lease of calculation {CalculationId}")]
    private static partial void LogRenewFailed(ILogger logger, Exception exception, string calculationId);
}
