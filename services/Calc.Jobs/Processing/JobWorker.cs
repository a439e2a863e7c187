using Calc.Core.Scheduling;
using Calc.Jobs.Domain;
using Calc.Jobs.Queueing;
using Microsoft.Extensions.Options;

namespace Calc.Jobs.Processing;

/// <summary>
/// Consumes the job queue with a prefetch of <c>Capacity:Slots</c> (the worker's capacity), reconnecting while the
/// queue cannot be reached. On shutdown it stops taking deliveries, hands running jobs back (see
/// <see cref="JobProcessor"/>), then closes the consumer.
/// </summary>
internal sealed partial class JobWorker(
    IJobQueue queue,
    JobProcessor processor,
    WorkScheduler scheduler,
    IOptions<CapacityOptions> capacity,
    IOptions<JobsOptions> options,
    ILogger<JobWorker> logger) : BackgroundService
{
    private static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(2);

    private IAsyncDisposable? _consumer;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                _consumer = await queue.ConsumeAsync(options.Value.QueueName, capacity.Value.Slots, processor.HandleAsync, stoppingToken);
                LogConsuming(logger, options.Value.QueueName, capacity.Value.Slots);
                return;
            }
            catch (QueueUnavailableException exception)
            {
                LogUnavailable(logger, exception, RetryInterval.TotalSeconds);
            }

            try
            {
                await Task.Delay(RetryInterval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        processor.Stop();
        await scheduler.ShutdownAsync(TimeSpan.FromSeconds(5));
        if (_consumer is not null)
        {
            await _consumer.DisposeAsync();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Consuming queue {Queue} with prefetch {Prefetch}")]
    private static partial void LogConsuming(ILogger logger, string queue, int prefetch);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The job queue cannot be reached; trying again in {Seconds} s")]
    private static partial void LogUnavailable(ILogger logger, Exception exception, double seconds);
}
