using Calc.Core.Contracts;
using Calc.Data;
using Calc.Jobs.Domain;
using Calc.Jobs.Queueing;

namespace Calc.Jobs.Processing;

/// <summary>
/// With the in-process queue, messages live in this process only: on start, every stored job that is still queued or
/// processing (this process stopped before finishing it) is published again, so none is lost. Used only when the
/// queue is in-process, where this process is the only worker of its database.
/// </summary>
internal sealed partial class InProcessQueueRecovery(
    IDocumentRepository<Job> repository,
    IJobQueue queue,
    Microsoft.Extensions.Options.IOptions<JobsOptions> options,
    TimeProvider time,
    ILogger<InProcessQueueRecovery> logger) : BackgroundService
{
    // Jobs created after this process started were published by it: only older ones can have lost their message.
    private readonly DateTimeOffset _started = time.GetUtcNow();

    private const int PageSize = 500;
    private const int MaxJobs = 1_000_000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var republished = 0;
        foreach (var status in new[] { JobStatus.Processing, JobStatus.Queued })
        {
            // Publishing does not change the status, so paging by offset over the index is stable here.
            for (var offset = 0; offset < MaxJobs && !stoppingToken.IsCancellationRequested; offset += PageSize)
            {
                var page = await repository.QueryAsync(new DocumentQuery(WireNames<JobStatus>.Of(status), offset, PageSize), stoppingToken);
                foreach (var stored in page)
                {
                    var job = stored.Document;
                    if (job.CreatedAt >= _started)
                    {
                        continue;
                    }

                    await queue.PublishAsync(options.Value.QueueName, new QueueMessage(job.Id, new JobMessage(job.Id, job.RequestId).ToBytes(), job.Priority), stoppingToken);
                    republished++;
                }

                if (page.Count < PageSize)
                {
                    break;
                }
            }
        }

        if (republished > 0)
        {
            LogRepublished(logger, republished);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Re-published {Count} unfinished jobs to the in-process queue")]
    private static partial void LogRepublished(ILogger logger, int count);
}
