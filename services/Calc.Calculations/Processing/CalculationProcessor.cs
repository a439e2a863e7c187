using System.Collections.Concurrent;
using System.Diagnostics;
using Calc.Calculations.Contracts;
using Calc.Calculations.Domain;
using Calc.Core.Callbacks;
using Calc.Core.Hosting;
using Calc.Core.Scheduling;
using Calc.Data;
using Microsoft.Extensions.Options;

namespace Calc.Calculations.Processing;

/// <summary>
/// Takes a calculation into processing on a scheduler slot and records how it ends. The calculation is first stored
/// as processing under this instance's lease, and only then started, so a crash at any point leaves it recoverable.
/// </summary>
internal sealed partial class CalculationProcessor(
    IDocumentRepository<Calculation> repository,
    CallbackOutbox callbacks,
    WorkLanes lanes,
    CalculationsMetrics metrics,
    ServiceIdentity identity,
    IOptions<CalculationsOptions> options,
    TimeProvider time,
    ILogger<CalculationProcessor> logger)
{
    private readonly ConcurrentDictionary<string, LiveProgress> _progress = new(StringComparer.Ordinal);

    /// <summary>Progress of a calculation running on this instance, or null.</summary>
    public int? LocalProgress(string id) => _progress.TryGetValue(id, out var p) ? p.Value : null;

    /// <summary>
    /// Stores the calculation <paramref name="id"/> as processing under this instance's lease (only if it is still in the
    /// state <paramref name="isStillEligible"/> accepts) and starts it on <paramref name="slot"/>. On any refusal the
    /// slot is given back. Returns the stored calculation, or null when it changed meanwhile.
    /// </summary>
    public Task<Calculation?> TryStartAsync(WorkSlot slot, string id, Func<Calculation, bool> isStillEligible, CancellationToken cancellationToken) =>
        TryStartAsync(slot, id, known: null, isStillEligible, cancellationToken);

    /// <summary>
    /// As <see cref="TryStartAsync(WorkSlot, string, Func{Calculation, bool}, CancellationToken)"/>, from the copy the
    /// caller has just loaded: the start is then one versioned write, no second load (the copy only saves the load:
    /// should it be stale, the write loses and the start is decided on a fresh load).
    /// </summary>
    public Task<Calculation?> TryStartAsync(WorkSlot slot, StoredDocument<Calculation> known, Func<Calculation, bool> isStillEligible, CancellationToken cancellationToken) =>
        TryStartAsync(slot, known.Id, known, isStillEligible, cancellationToken);

    private async Task<Calculation?> TryStartAsync(
        WorkSlot slot, string id, StoredDocument<Calculation>? known, Func<Calculation, bool> isStillEligible, CancellationToken cancellationToken)
    {
        using (slot)
        {
            var now = time.GetUtcNow();
            Calculation? Take(Calculation c) => isStillEligible(c)
                ? c with
                {
                    Status = CalculationStatus.Processing,
                    StartedAt = c.StartedAt ?? now,
                    Attempts = c.Attempts + 1,
                    LeaseOwner = identity.InstanceId,
                    LeaseExpiresAt = now + options.Value.Lease,
                }
                : null;
            var taken = known is null
                ? await repository.ChangeAsync(id, Take, cancellationToken)
                : await repository.ChangeAsync(known, Take, cancellationToken);
            if (taken is not { Changed: true })
            {
                return null;
            }

            var calculation = taken.Document;
            var remaining = calculation.Deadline!.Value - now;
            LogStarted(logger, id, calculation.Type, calculation.Attempts, identity.InstanceId);
            var stored = taken.Stored;
            _ = slot.Start(id, remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero, context => RunAsync(context, stored));
            return calculation;
        }
    }

    // The slot bounds the computation only: it is given back as soon as the computation ends, before the outcome is
    // written, so a slow store does not keep slots taken (and finalizes refused with 503) for work that is done. The
    // outcome write still happens while the calculation counts as running here (the lease renewer keeps its lease,
    // shutdown waits for it), and a crash before it leaves the calculation processing under a lease that expires,
    // for recovery to take up.
    private async Task RunAsync(WorkContext context, StoredDocument<Calculation> started)
    {
        var calculation = started.Document;
        var progress = _progress[calculation.Id] = new LiveProgress();
        // Under the request that started it (finalize), or a root span when recovery took it up.
        using var activity = CalculationsTelemetry.Source.StartActivity("calculation process");
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("calc.calculation_id", calculation.Id);
            activity.SetTag("calc.calculation.type", calculation.Type.ToString());
            activity.SetTag("calc.calculation.attempt", calculation.Attempts);
            activity.SetTag(Telemetry.RequestIdTag, calculation.RequestId);
        }

        try
        {
            Evaluation evaluation;
            try
            {
                // On the CPU lane: at most one computation per core, whatever the slots allow.
                evaluation = await lanes.Cpu.RunAsync(
                    () => CalculationEngine.Evaluate(calculation, options.Value, progress, context.CancellationToken),
                    context.CancellationToken);
            }
            catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
            {
                context.ReleaseSlot();
                activity?.SetTag("calc.stop_reason", context.StopReason.ToString());
                await RecordStopAsync(started, context.StopReason);
                return;
            }
            catch (Exception ex) when (ex is OutOfMemoryException or ArithmeticException or FormatException or OverflowException)
            {
                evaluation = Evaluation.Failure($"The calculation could not be computed: {ex.Message}");
            }

            context.ReleaseSlot();

            if (evaluation.Error is not null)
            {
                activity?.SetStatus(ActivityStatusCode.Error, evaluation.Error);
            }

            var now = time.GetUtcNow();
            var status = evaluation.Error is null ? CalculationStatus.Done : CalculationStatus.Failed;
            var finished = await FinishAsync(started, c => evaluation.Error is null
                ? c.Finish(CalculationStatus.Done, now) with { Result = evaluation.Value, ResultDigits = evaluation.Digits, Progress = 100 }
                : c.Finish(CalculationStatus.Failed, now, evaluation.Error));
            if (finished)
            {
                metrics.Finished(status);
                LogFinished(logger, calculation.Id, evaluation.Error is null ? "done" : "failed", evaluation.Error is null ? "" : ": " + evaluation.Error);
            }
        }
        finally
        {
            _progress.TryRemove(calculation.Id, out _);
        }
    }

    private async Task RecordStopAsync(StoredDocument<Calculation> started, StopReason reason)
    {
        var calculation = started.Document;
        var now = time.GetUtcNow();
        switch (reason)
        {
            case StopReason.TimedOut:
                if (await FinishAsync(started, c => c.Finish(
                    CalculationStatus.TimedOut, now, $"Processing took longer than the timeout of {c.TimeoutSeconds} s and was stopped.")))
                {
                    metrics.Finished(CalculationStatus.TimedOut);
                }

                LogFinished(logger, calculation.Id, "timed_out", "");
                break;
            case StopReason.Shutdown:
                // Leave it processing with an expired lease: the next instance to look takes it up at once.
                await FinishAsync(started, c => c with { LeaseExpiresAt = now });
                LogHandedBack(logger, calculation.Id);
                break;
            default:
                // Cancelled: the DELETE that asked for it has already stored the cancelled status.
                metrics.Finished(CalculationStatus.Cancelled);
                LogFinished(logger, calculation.Id, "cancelled", "");
                break;
        }
    }

    // Writes only while this instance still holds the calculation: a cancel or a takeover by another instance wins.
    // From the copy stored at the start: one write unless a lease renewal, a cancel or a takeover changed it since.
    private async Task<bool> FinishAsync(StoredDocument<Calculation> started, Func<Calculation, Calculation> finish)
    {
        var id = started.Id;
        var result = await repository.ChangeAsync(
            started,
            c => c.Status == CalculationStatus.Processing && c.LeaseOwner == identity.InstanceId ? finish(c) : null,
            CancellationToken.None);
        if (result is { Changed: true, Document: { IsFinal: true, CallbackUrl: not null } })
        {
            await callbacks.ArmAsync(id, CancellationToken.None);
        }

        return result is { Changed: true };
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Calculation {CalculationId} ({Type}) started, attempt {Attempt}, on {InstanceId}")]
    private static partial void LogStarted(ILogger logger, string calculationId, CalculationType type, int attempt, string instanceId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Calculation {CalculationId} ended {Status}{Error}")]
    private static partial void LogFinished(ILogger logger, string calculationId, string status, string error); // error: "" or ": why"

    [LoggerMessage(Level = LogLevel.Information, Message = "Calculation {CalculationId} stopped for shutdown; left for another instance")]
    private static partial void LogHandedBack(ILogger logger, string calculationId);

    /// <summary>Progress written by the computing thread, read by GET and the lease renewer.</summary>
    private sealed class LiveProgress : IProgress<int>
    {
        private int _value;

        public int Value => Volatile.Read(ref _value);

        public void Report(int value) => Volatile.Write(ref _value, Math.Clamp(value, 0, 100));
    }
}
