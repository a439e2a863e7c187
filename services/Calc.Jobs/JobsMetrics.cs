using System.Diagnostics.Metrics;
using Calc.Core.Contracts;
using Calc.Data;
using Calc.Jobs.Domain;
using Calc.Jobs.Queueing;
using Microsoft.Extensions.Options;

namespace Calc.Jobs;

/// <summary>
/// The Jobs service's own metrics (meter <c>Calc.Jobs</c>): jobs per status and the job queue's depth, the numbers
/// <c>GET /status</c> shows. Both are queries (database, broker), so a scrape never waits on them: it reports the last
/// reading and, when that is older than <c>Jobs:MetricsSampleInterval</c>, starts one new reading in the background.
/// Nothing is queried while nobody scrapes. Both are the same on every instance sharing the database and queue:
/// aggregate them with max, not sum.
/// </summary>
internal sealed partial class JobsMetrics : IHostedService
{
    private readonly IDocumentRepository<Job> _repository;
    private readonly IJobQueue _queue;
    private readonly IOptions<JobsOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<JobsMetrics> _logger;
    private readonly CancellationToken _stopping;
    private volatile IReadOnlyDictionary<string, long>? _jobs;
    private volatile QueueDepth? _depth;
    private long _sampledAt = long.MinValue; // TimeProvider timestamp of the last reading started
    private int _sampling; // 1 while a reading runs: one at a time

    public JobsMetrics(
        IMeterFactory meters,
        IDocumentRepository<Job> repository,
        IJobQueue queue,
        IOptions<JobsOptions> options,
        TimeProvider time,
        IHostApplicationLifetime lifetime,
        ILogger<JobsMetrics> logger)
    {
        _stopping = lifetime.ApplicationStopping;
        _repository = repository;
        _queue = queue;
        _options = options;
        _time = time;
        _logger = logger;
        var meter = meters.Create(JobsTelemetry.Name);
        meter.CreateObservableGauge("calc.job.count", ObserveJobs, "{job}", "Jobs per status (queued, processing, done, failed, timed_out, cancelled), across the instances sharing the database.");
        meter.CreateObservableGauge("calc.job.queue.depth", ObserveDepth, "{message}", "Messages in the job queue: ready (waiting for a worker) and parked (poison, set aside).");
    }

    // A hosted service only so that the gauges exist from the start; the readings start with the first scrape.
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private void RefreshIfStale()
    {
        var now = _time.GetTimestamp();
        if (_stopping.IsCancellationRequested
            || (Interlocked.Read(ref _sampledAt) != long.MinValue && _time.GetElapsedTime(Interlocked.Read(ref _sampledAt), now) < _options.Value.MetricsSampleInterval)
            || Interlocked.CompareExchange(ref _sampling, 1, 0) != 0)
        {
            return;
        }

        Interlocked.Exchange(ref _sampledAt, now);
        _ = Task.Run(async () =>
        {
            try
            {
                await SampleAsync(_stopping);
            }
            catch (OperationCanceledException)
            {
                // stopping
            }
            finally
            {
                Volatile.Write(ref _sampling, 0);
            }
        });
    }

    private async Task SampleAsync(CancellationToken cancellationToken)
    {
        try
        {
            _jobs = WireNames<JobStatus>.WithCounts(await _repository.CountByIndexAsync(cancellationToken));
        }
        catch (Exception exception) when (exception is not OperationCanceledException and not OutOfMemoryException)
        {
            _jobs = null; // a stale count would read as a real one
            LogSampleFailed(_logger, exception, "job counts");
        }

        try
        {
            _depth = await _queue.GetDepthAsync(_options.Value.QueueName, cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException and not OutOfMemoryException)
        {
            _depth = null;
            LogSampleFailed(_logger, exception, "queue depth");
        }
    }

    private IEnumerable<Measurement<long>> ObserveJobs()
    {
        RefreshIfStale();
        return _jobs is { } jobs
            ? jobs.Select(j => new Measurement<long>(j.Value, new KeyValuePair<string, object?>("calc.job.status", j.Key)))
            : [];
    }

    private IEnumerable<Measurement<long>> ObserveDepth()
    {
        RefreshIfStale();
        return _depth is { } depth
            ?
            [
                new Measurement<long>(depth.Ready, new KeyValuePair<string, object?>("calc.queue.state", "ready")),
                new Measurement<long>(depth.Parked, new KeyValuePair<string, object?>("calc.queue.state", "parked")),
            ]
            : [];
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reading the {What} for /metrics failed; reported as missing until the next reading")]
    private static partial void LogSampleFailed(ILogger logger, Exception exception, string what);
}
