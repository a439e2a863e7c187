using Calc.Contracts;
using Calc.Data;
using Calc.Queueing;
using Calc.Scheduling;
using Microsoft.Extensions.Options;

namespace Calc.Jobs.Domain;

/// <summary>
/// Accepts jobs: stores each as queued (with its expiry), publishes it, and deletes it again when the queue did not
/// take it, so an accepted job is always both stored and queued. Also decides admission against the queue limits.
/// </summary>
internal sealed partial class JobSubmitter(
    IDocumentRepository<Job> repository,
    IJobQueue queue,
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
    public Job NewBudgetJob(string? jobId, int daysOnline, long budgetCents, WorkPriority priority, int? timeoutSeconds, string? batchId = null)
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
        };
    }

    public async Task<Outcome> SubmitAsync(Job job, CancellationToken cancellationToken)
    {
        var write = await repository.InsertAsync(job.Id, job, job.ExpiresAt, cancellationToken);
        if (write.Status == WriteStatus.AlreadyExists)
        {
            return Outcome.AlreadyExists;
        }

        try
        {
            await queue.PublishAsync(options.Value.QueueName, new QueueMessage(job.Id, new JobMessage(job.Id).ToBytes(), job.Priority), cancellationToken);
            return Outcome.Accepted;
        }
        catch (QueueUnavailableException exception)
        {
            LogNotQueued(logger, exception, job.Id);
            await repository.DeleteAsync(job.Id, CancellationToken.None);
            return Outcome.QueueUnavailable;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} was not accepted: the queue did not take it")]
    private static partial void LogNotQueued(ILogger logger, Exception exception, string jobId);
}
