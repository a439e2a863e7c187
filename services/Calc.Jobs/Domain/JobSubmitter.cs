using Calc.Core.Callbacks;
using Calc.Core.Contracts;
using Calc.Core.Scheduling;
using Calc.Data;
using Calc.Jobs.Queueing;
using Microsoft.Extensions.Options;

namespace Calc.Jobs.Domain;

/// <summary>
/// Accepts jobs: stores each as queued (with its expiry, and its callback delivery first when it has a callback URL),
/// publishes it, and deletes both again when the queue did not take it, so an accepted job is always both stored and
/// queued. Also decides admission against the queue limits.
/// </summary>
internal sealed partial class JobSubmitter(
    IDocumentRepository<Job> repository,
    IJobQueue queue,
    CallbackOutbox callbacks,
    IOptions<JobsOptions> options,
    TimeProvider time,
    ILogger<JobSubmitter> logger)
{
    public enum Outcome
    {
        Accepted,
        AlreadyExists,
        QueueUnavailable,
    }

    /// <summary>Places left in the queue for jobs of <paramref name="priority"/> (0 or less: refuse).</summary>
    public async Task<long> FreePlacesAsync(WorkPriority priority, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var queued = await repository.CountAsync(WireNames<JobStatus>.Of(JobStatus.Queued), cancellationToken);
        var limit = priority == WorkPriority.High ? settings.MaxQueued : settings.MaxQueued - settings.ReservedHighQueued;
        return limit - queued;
    }

    /// <summary>A new budget job from already validated input.</summary>
    public Job NewBudgetJob(string? jobId, int daysOnline, long budgetCents, WorkPriority priority, int? timeoutSeconds, string? batchId = null,
        string? callbackUrl = null, string? requestId = null, string? idempotencyKey = null)
    {
        var now = time.GetUtcNow();
        return new Job
        {
            Id = jobId ?? JobIds.New(),
            Priority = priority,
            TimeoutSeconds = timeoutSeconds ?? options.Value.DefaultTimeoutSeconds,
            CreatedAt = now,
            ExpiresAt = now + (options.Value.DayLength * daysOnline),
            Budget = new BudgetInput(daysOnline, budgetCents),
            BatchId = batchId,
            CallbackUrl = callbackUrl,
            RequestId = requestId,
            IdempotencyKey = idempotencyKey,
        };
    }

    /// <summary>A new fetch job from already validated input: it and its data are kept for <c>Jobs:FetchResultLifetime</c>.</summary>
    public Job NewFetchJob(string? jobId, string provider, WorkPriority priority, int? timeoutSeconds, string callbackUrl, string requestId, string? idempotencyKey = null)
    {
        var now = time.GetUtcNow();
        return new Job
        {
            Id = jobId ?? JobIds.New(),
            Kind = Job.FetchKind,
            Priority = priority,
            TimeoutSeconds = timeoutSeconds ?? options.Value.DefaultTimeoutSeconds,
            CreatedAt = now,
            ExpiresAt = now + options.Value.FetchResultLifetime,
            Provider = provider,
            CallbackUrl = callbackUrl,
            RequestId = requestId,
            IdempotencyKey = idempotencyKey,
        };
    }

    /// <summary>The stored job, or null when there is none (or it expired).</summary>
    public async Task<Job?> LoadAsync(string id, CancellationToken cancellationToken) =>
        (await repository.LoadAsync(id, cancellationToken))?.Document;

    public async Task<Outcome> SubmitAsync(Job job, CancellationToken cancellationToken)
    {
        // The delivery first: should this process stop before the job is stored, the dispatcher's sweep drops it.
        var registered = false;
        if (job.CallbackUrl is { } url)
        {
            registered = await callbacks.RegisterAsync(job.Id, url, job.RequestId, job.ExpiresAt, cancellationToken);

            // Without a key, a live job with this id has (or had) a callback: the id is taken. Under a key, an earlier
            // request with it (whose instance stopped, or which runs alongside) may have registered this very
            // delivery; the job's insert below decides whether the id is taken.
            if (!registered && job.IdempotencyKey is null)
            {
                return Outcome.AlreadyExists;
            }
        }

        var write = await repository.InsertAsync(job.Id, job, job.ExpiresAt, cancellationToken);
        if (write.Status == WriteStatus.AlreadyExists)
        {
            if (registered)
            {
                await callbacks.DropAsync(job.Id); // Only a delivery this call stored: another's belongs to the stored job.
            }

            return Outcome.AlreadyExists;
        }

        try
        {
            await queue.PublishAsync(options.Value.QueueName, new QueueMessage(job.Id, new JobMessage(job.Id, job.RequestId).ToBytes(), job.Priority), cancellationToken);
            if (job.BatchId is null)
            {
                LogQueued(logger, job.Id, job.Kind, job.RequestId); // Not per row of a bulk upload: the batch is logged once.
            }

            return Outcome.Accepted;
        }
        catch (QueueUnavailableException exception)
        {
            LogNotQueued(logger, exception, job.Id);
            await repository.DeleteAsync(job.Id, CancellationToken.None);
            if (job.CallbackUrl is not null)
            {
                await callbacks.DropAsync(job.Id);
            }

            return Outcome.QueueUnavailable;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} ({Kind}) queued (request {RequestId})")]
    private static partial void LogQueued(ILogger logger, string jobId, string kind, string? requestId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} was not accepted: the queue did not take it")]
    private static partial void LogNotQueued(ILogger logger, Exception exception, string jobId);
}
