using Calc.Calculations.Contracts;
using Calc.Calculations.Domain;
using Calc.Core.Callbacks;
using Calc.Core.Contracts;
using Calc.Core.Scheduling;
using Calc.Data;
using Microsoft.Extensions.Options;

namespace Calc.Calculations.Processing;

/// <summary>
/// Finds calculations left processing by an instance that stopped (their lease expired) and takes them up again
/// here, or ends them with a clear reason when their timeout has passed or they were interrupted too often.
/// Runs at start and then every <see cref="CalculationsOptions.RecoveryIntervalSeconds"/>. Several instances may
/// run it at once: optimistic concurrency lets exactly one take each calculation.
/// </summary>
internal sealed partial class AbandonedCalculationRecovery(
    IDocumentRepository<Calculation> repository,
    WorkScheduler scheduler,
    CalculationProcessor processor,
    CallbackOutbox callbacks,
    IOptions<CalculationsOptions> options,
    TimeProvider time,
    ILogger<AbandonedCalculationRecovery> logger) : BackgroundService
{
    private const int PageSize = 100;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.RecoveryIntervalSeconds), time);
        do
        {
            try
            {
                await RecoverAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogRecoveryFailed(logger, ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>One pass over the processing calculations. Returns how many were taken up or ended.</summary>
    public async Task<int> RecoverAsync(CancellationToken cancellationToken)
    {
        var handled = 0;
        var processing = WireNames<CalculationStatus>.Of(CalculationStatus.Processing);
        for (var offset = 0; ; offset += PageSize)
        {
            var page = await repository.QueryAsync(new DocumentQuery(processing, offset, PageSize), cancellationToken);
            foreach (var stored in page.Where(s => IsAbandoned(s.Document)))
            {
                if (await RecoverOneAsync(stored.Document, cancellationToken))
                {
                    handled++;
                }
            }

            if (page.Count < PageSize)
            {
                return handled;
            }
        }
    }

    private bool IsAbandoned(Calculation c) =>
        c.Status == CalculationStatus.Processing && (c.LeaseExpiresAt ?? DateTimeOffset.MinValue) <= time.GetUtcNow() && !scheduler.IsRunning(c.Id);

    private async Task<bool> RecoverOneAsync(Calculation abandoned, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (abandoned.Attempts >= options.Value.MaxAttempts)
        {
            return await EndAsync(abandoned, c => c.Finish(CalculationStatus.Failed, now,
                $"Abandoned: processing was interrupted {c.Attempts} times (the instance running it stopped each time)."), cancellationToken);
        }

        if (abandoned.Deadline is { } deadline && deadline <= now)
        {
            return await EndAsync(abandoned, c => c.Finish(CalculationStatus.TimedOut, now,
                $"The instance processing it stopped, and its timeout of {c.TimeoutSeconds} s has passed."), cancellationToken);
        }

        var slot = scheduler.TryAcquire(abandoned.Priority);
        if (slot is null)
        {
            return false; // No capacity here now; the next pass (here or on another instance) tries again.
        }

        var taken = await processor.TryStartAsync(slot, abandoned.Id, IsAbandoned, cancellationToken);
        if (taken is not null)
        {
            LogTakenUp(logger, abandoned.Id, abandoned.LeaseOwner);
        }

        return taken is not null;
    }

    private async Task<bool> EndAsync(Calculation abandoned, Func<Calculation, Calculation> end, CancellationToken cancellationToken)
    {
        var result = await repository.ChangeAsync(abandoned.Id, c => IsAbandoned(c) ? end(c) : null, cancellationToken);
        if (result is { Changed: true, Document.CallbackUrl: not null })
        {
            await callbacks.ArmAsync(abandoned.Id, CancellationToken.None);
        }

        return result is { Changed: true };
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Calculation {CalculationId} abandoned by {PreviousOwner} taken up again")]
    private static partial void LogTakenUp(ILogger logger, string calculationId, string? previousOwner);

    [LoggerMessage(Level = LogLevel.Error, Message = "Recovery of abandoned calculations failed; retrying at the next interval")]
    private static partial void LogRecoveryFailed(ILogger logger, Exception exception);
}
