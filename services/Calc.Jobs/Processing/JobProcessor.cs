using Calc.Core.Callbacks;
using Calc.Core.Contracts;
using Calc.Core.Hosting;
using Calc.Core.Scheduling;
using Calc.Data;
using Calc.Jobs.Domain;
using Calc.Jobs.Queueing;
using Microsoft.Extensions.Options;

namespace Calc.Jobs.Processing;

/// <summary>
/// Handles one delivery from the job queue: takes a worker slot for the job's priority, stores the job as processing
/// under this instance and a new attempt number, computes it, stores the outcome, and only then acknowledges the
/// message. A delivery whose job is gone, final or cancelled is acknowledged without work; an unreadable one is parked.
/// </summary>
internal sealed partial class JobProcessor(
    IDocumentRepository<Job> repository,
    WorkScheduler scheduler,
    WorkLanes lanes,
    ProviderFetcher fetcher,
    CallbackOutbox callbacks,
    ServiceIdentity identity,
    IOptions<JobsOptions> options,
    TimeProvider time,
    ILogger<JobProcessor> logger) : IDisposable
{
    private static readonly TimeSpan SlotPoll = TimeSpan.FromMilliseconds(50);

    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Stops taking deliveries: those waiting for a slot are handed back to the queue.</summary>
    public void Stop()
    {
        try
        {
            _stopping.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The host may stop its services again after the container was disposed: nothing is left to stop.
        }
    }

    public void Dispose() => _stopping.Dispose();

    public async Task HandleAsync(QueueDelivery delivery)
    {
        if (!JobMessage.TryRead(delivery.Body, out var message))
        {
            await delivery.ParkAsync("The message is not a job message ({\"jobId\":\"...\"}).");
            return;
        }

        // A message-template scope: structured in JSON logs, readable in plain-text ones.
        using var scope = logger.BeginScope("RequestId:{RequestId} JobId:{JobId} Delivery:{Delivery}", message.RequestId, message.JobId, delivery.DeliveryCount);
        // Under the queue's consumer span, which continues the trace of the request that submitted the job.
        using var activity = JobsTelemetry.Source.StartActivity("job pipeline");
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("calc.job_id", message.JobId);
            activity.SetTag(Telemetry.RequestIdTag, message.RequestId);
            activity.SetTag("calc.job.delivery", delivery.DeliveryCount);
        }

        var stored = await repository.LoadAsync(message.JobId, CancellationToken.None);
        if (stored is null || stored.Document.IsFinal)
        {
            // Expired, deleted, cancelled or finished (a duplicate delivery): nothing left to do.
            await delivery.AckAsync();
            return;
        }

        var slot = await AcquireSlotAsync(stored.Document.Priority);
        if (slot is null)
        {
            await delivery.ReleaseAsync();
            return;
        }

        Job job;
        using (slot)
        {
            var now = time.GetUtcNow();
            var taken = await repository.ChangeAsync(message.JobId, j => j.Status is JobStatus.Queued or JobStatus.Processing
                ? j with
                {
                    Status = JobStatus.Processing,
                    StartedAt = j.StartedAt ?? now,
                    Attempts = j.Attempts + 1,
                    Worker = identity.InstanceId,
                }
                : null, CancellationToken.None);
            if (taken is not { Changed: true })
            {
                await delivery.AckAsync();
                return;
            }

            job = taken.Document;
            var remaining = job.Deadline!.Value - now;
            if (remaining <= TimeSpan.Zero)
            {
                await FinishAsync(job, j => j.Finish(JobStatus.TimedOut, now, TimeoutMessage(j)));
                await AckAsync(delivery);
                return;
            }

            LogStarted(logger, job.Id, job.Kind, job.Attempts, identity.InstanceId, job.RequestId);
            await slot.Start(job.Id, remaining, context => RunAsync(context, job, delivery));
        }
    }

    private async Task RunAsync(WorkContext context, Job job, QueueDelivery delivery)
    {
        try
        {
            if (options.Value.ProcessingDelayMilliseconds > 0)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(options.Value.ProcessingDelayMilliseconds), time, context.CancellationToken);
            }

            if (job.Kind == Job.FetchKind)
            {
                var fetched = await fetcher.FetchAsync(job, context.CancellationToken);
                var now = time.GetUtcNow();
                var status = fetched.Error is null ? JobStatus.Done : JobStatus.Failed;
                if (await FinishAsync(job, j => j.Finish(status, now, fetched.Error) with { Data = fetched.Data, FetchAttempts = fetched.Attempts }))
                {
                    LogFinished(logger, job.Id, WireNames<JobStatus>.Of(status), job.RequestId);
                }
            }
            else
            {
                // Computing is CPU-bound: on the CPU lane, so it never holds up fetches and callback deliveries.
                var budget = job.Budget!;
                var parts = await lanes.Cpu.RunAsync(() => BudgetDistribution.Distribute(budget.BudgetCents, budget.DaysOnline), context.CancellationToken);
                var now = time.GetUtcNow();
                if (await FinishAsync(job, j => j.Finish(JobStatus.Done, now) with { DailyCents = parts }))
                {
                    LogFinished(logger, job.Id, "done", job.RequestId);
                }
            }

            await AckAsync(delivery);
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            await RecordStopAsync(job, delivery, context.StopReason);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // Unexpected (e.g. the database went away): try again later; the last attempt records the failure.
            LogFailed(logger, exception, job.Id, delivery.DeliveryCount);
            if (delivery.IsLastDelivery)
            {
                await TryFinishAsync(job, j => j.Finish(JobStatus.Failed, time.GetUtcNow(), $"Gave up after {delivery.DeliveryCount} attempts: {exception.Message}"));
            }

            await delivery.RetryAsync(exception.Message);
        }
    }

    private async Task RecordStopAsync(Job job, QueueDelivery delivery, StopReason reason)
    {
        var now = time.GetUtcNow();
        switch (reason)
        {
            case StopReason.TimedOut:
                await FinishAsync(job, j => j.Finish(JobStatus.TimedOut, now, TimeoutMessage(j)));
                LogFinished(logger, job.Id, "timed_out", job.RequestId);
                await AckAsync(delivery);
                break;
            case StopReason.Shutdown:
                // Back to queued and back to the queue, for another worker (or this one after its restart).
                await FinishAsync(job, j => j with { Status = JobStatus.Queued, Worker = null });
                await delivery.ReleaseAsync();
                break;
            default:
                // Cancelled: the DELETE that asked for it has stored the status already.
                await AckAsync(delivery);
                break;
        }
    }

    private async Task<WorkSlot?> AcquireSlotAsync(WorkPriority priority)
    {
        // Deliveries are bounded by the prefetch (= slots): one that finds only reserved slots free waits here.
        using var activity = JobsTelemetry.Source.StartActivity("scheduler wait");
        activity?.SetTag("calc.priority", priority.ToString());
        return await scheduler.WaitForSlotAsync(priority, SlotPoll, _stopping.Token);
    }

    // Writes only while this worker still holds the job's latest attempt: a cancel or a takeover wins.
    private async Task<bool> FinishAsync(Job job, Func<Job, Job> finish)
    {
        var result = await repository.ChangeAsync(
            job.Id,
            j => j.Status == JobStatus.Processing && j.Worker == identity.InstanceId && j.Attempts == job.Attempts ? finish(j) : null,
            CancellationToken.None);
        if (result is { Changed: true, Document: { IsFinal: true, CallbackUrl: not null } })
        {
            await callbacks.ArmAsync(job.Id, CancellationToken.None);
        }

        return result is { Changed: true };
    }

    private async Task TryFinishAsync(Job job, Func<Job, Job> finish)
    {
        try
        {
            await FinishAsync(job, finish);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            LogFailed(logger, exception, job.Id, 0);
        }
    }

    private async Task AckAsync(QueueDelivery delivery)
    {
        try
        {
            await delivery.AckAsync();
        }
        catch (QueueUnavailableException exception)
        {
            // The result is stored; the broker delivers the message again and that delivery finds the job final.
            LogAckFailed(logger, exception, delivery.MessageId);
        }
    }

    private static string TimeoutMessage(Job job) => $"Processing took longer than the timeout of {job.TimeoutSeconds} s and was stopped.";

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} ({Kind}) started, attempt {Attempt}, on {InstanceId} (request {RequestId})")]
    private static partial void LogStarted(ILogger logger, string jobId, string kind, int attempt, string instanceId, string? requestId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} ended {Status} (request {RequestId})")]
    private static partial void LogFinished(ILogger logger, string jobId, string status, string? requestId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} failed on delivery {Delivery}")]
    private static partial void LogFailed(ILogger logger, Exception exception, string jobId, int delivery);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: its result is stored but the ack failed; the redelivery will find it done")]
    private static partial void LogAckFailed(ILogger logger, Exception exception, string jobId);
}
