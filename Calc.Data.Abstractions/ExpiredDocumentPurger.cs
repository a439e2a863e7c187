using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Calc.Data;

/// <summary>Deletes expired documents of every registered collection, once per <see cref="DatabaseOptions.PurgeInterval"/>.</summary>
internal sealed partial class ExpiredDocumentPurger(
    IEnumerable<ExpiringCollection> collections,
    IOptions<DatabaseOptions> options,
    TimeProvider time,
    ILogger<ExpiredDocumentPurger> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var targets = collections.ToArray();
        if (targets.Length == 0)
        {
            return;
        }

        using var timer = new PeriodicTimer(options.Value.PurgeInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            foreach (var collection in targets)
            {
                try
                {
                    var purged = await collection.PurgeExpiredAsync(stoppingToken);
                    if (purged > 0)
                    {
                        LogPurged(purged, collection.Name);
                    }
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    // The database may be away for a while; the next tick tries again.
                    LogPurgeFailed(exception, collection.Name);
                }
            }
        }
    }

    [LoggerMessage(LogLevel.Debug, "Purged {Count} expired documents from {Collection}")]
    private partial void LogPurged(long count, string collection);

    [LoggerMessage(LogLevel.Warning, "Purging expired documents from {Collection} failed")]
    private partial void LogPurgeFailed(Exception exception, string collection);
}
