using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Headers;
using Calc.Core.Contracts;
using Calc.Core.Hosting;
using Calc.Core.Outbound;
using Calc.Core.Scheduling;
using Calc.Data;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Calc.Core.Callbacks;

/// <summary>
/// Posts due callbacks. Each pass takes the pending deliveries in the order they are due, claims each with a versioned
/// write (so among several processes exactly one attempts it), and posts it on the I/O lane with a per-attempt timeout.
/// 2xx ends it delivered; anything else schedules the next attempt with exponential backoff and jitter, until
/// <see cref="CallbackOptions.MaxAttempts"/> ends it dead-lettered; a receiver whose every address the
/// <see cref="OutboundAddressPolicy"/> refuses ends it dead-lettered at once. Deliveries still waiting for their work are swept
/// every <see cref="CallbackOptions.SweepInterval"/>. Delivery is at least once: a receiver may see a callback twice
/// when a process died after posting and before storing the outcome; the <c>X-Calc-Callback-Id</c> header lets it
/// tell.
/// </summary>
internal sealed partial class CallbackDispatcher(
    IDocumentRepository<CallbackDelivery> repository,
    CallbackOutbox outbox,
    ICallbackSource source,
    WorkLanes lanes,
    IHttpClientFactory httpClients,
    IOptions<CallbackOptions> options,
    ServiceIdentity identity,
    TimeProvider time,
    ILogger<CallbackDispatcher> logger) : BackgroundService
{
    public const string HttpClientName = "calc.callbacks";

    private const int PageSize = 100;
    private const int MaxSweepPages = 20;
    private static readonly TimeSpan ClaimMargin = TimeSpan.FromSeconds(5);
    private static readonly string Pending = WireNames<CallbackState>.Of(CallbackState.Pending);
    private static readonly string Waiting = WireNames<CallbackState>.Of(CallbackState.Waiting);

    private readonly ConcurrentDictionary<string, Task> _inFlight = new(StringComparer.Ordinal);
    private readonly CallbackOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var nextSweep = DateTimeOffset.MinValue;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    if (time.GetUtcNow() >= nextSweep)
                    {
                        await SweepWaitingAsync(stoppingToken);
                        nextSweep = time.GetUtcNow() + _options.SweepInterval;
                    }

                    await DispatchDueAsync(stoppingToken);
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    LogPassFailed(logger, exception);
                }

                await outbox.WaitForWorkAsync(_options.PollInterval, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
        finally
        {
            // Attempts under way end within their timeout; their outcome is stored before the process goes.
            await Task.WhenAll(_inFlight.Values).WaitAsync(_options.AttemptTimeout + ClaimMargin, CancellationToken.None)
                .ContinueWith(static _ => { }, TaskScheduler.Default);
        }
    }

    private async Task DispatchDueAsync(CancellationToken stoppingToken)
    {
        var page = await repository.QueryAsync(new DocumentQuery(Pending, 0, PageSize), stoppingToken);
        foreach (var stored in page)
        {
            if (stored.Document.NextAttemptAt > time.GetUtcNow())
            {
                return; // Ordered by due time: the rest are later.
            }

            if (_inFlight.ContainsKey(stored.Id))
            {
                continue;
            }

            // Take a place on the I/O lane first, so a claim is never held while waiting for one.
            var place = await lanes.Io.EnterAsync(stoppingToken);
            StoredDocument<CallbackDelivery>? claimed;
            try
            {
                claimed = await TryClaimAsync(stored, stoppingToken);
            }
            catch
            {
                place.Dispose();
                throw;
            }

            if (claimed is null)
            {
                place.Dispose();
                continue;
            }

            _inFlight[claimed.Id] = Task.Run(async () =>
            {
                try
                {
                    await AttemptAsync(claimed, stoppingToken);
                }
                finally
                {
                    place.Dispose();
                    _inFlight.TryRemove(claimed.Id, out _);
                }
            }, CancellationToken.None);
        }
    }

    private async Task<StoredDocument<CallbackDelivery>?> TryClaimAsync(StoredDocument<CallbackDelivery> stored, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var delivery = stored.Document;
        var next = delivery.Attempts >= _options.MaxAttempts
            // Every attempt was claimed and none stored an outcome (the processes died mid-attempt): give up as well.
            ? delivery with { State = CallbackState.DeadLettered, Owner = null, LastError = "The processes attempting it stopped before storing an outcome." }
            : delivery with
            {
                Attempts = delivery.Attempts + 1,
                LastAttemptAt = now,
                NextAttemptAt = now + _options.AttemptTimeout + ClaimMargin,
                Owner = identity.InstanceId,
            };
        var write = await repository.UpdateAsync(stored.Id, next, stored.Version, stored.ExpiresAt, cancellationToken);
        return write.Succeeded && next.State == CallbackState.Pending ? write.Stored : null;
    }

    private async Task AttemptAsync(StoredDocument<CallbackDelivery> claimed, CancellationToken stoppingToken)
    {
        var delivery = claimed.Document;
        using var activity = Telemetry.Callbacks.StartFrom("callback deliver", System.Diagnostics.ActivityKind.Internal, delivery.TraceParent);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(Telemetry.RequestIdTag, delivery.RequestId);
            activity.SetTag("calc.work_id", delivery.WorkId);
            activity.SetTag("calc.callback.attempt", delivery.Attempts);
        }

        using var scope = logger.BeginScope("RequestId:{RequestId} CallbackFor:{WorkId}", delivery.RequestId, delivery.WorkId);
        try
        {
            var content = await source.GetContentAsync(delivery.WorkId, stoppingToken);
            if (content.Kind == CallbackContentKind.Gone)
            {
                await repository.DeleteAsync(claimed.Id, CancellationToken.None);
                LogDropped(logger, delivery.WorkId, delivery.RequestId);
                return;
            }

            if (content.Kind == CallbackContentKind.NotFinal)
            {
                await StoreOutcomeAsync(claimed, delivery with { State = CallbackState.Waiting, Attempts = delivery.Attempts - 1, Owner = null, NextAttemptAt = time.GetUtcNow() + _options.SweepInterval });
                return;
            }

            var (statusCode, error, refused) = await PostAsync(delivery, content.Body, stoppingToken);
            if (error is not null)
            {
                activity.Fail(error);
            }

            var now = time.GetUtcNow();
            CallbackDelivery outcome;
            if (error is null)
            {
                outcome = delivery with { State = CallbackState.Delivered, DeliveredAt = now, LastStatusCode = statusCode, LastError = null, Owner = null, NextAttemptAt = now };
                LogDelivered(logger, delivery.WorkId, delivery.Url, statusCode!.Value, delivery.Attempts, delivery.RequestId);
            }
            else if (refused)
            {
                // The address policy refused every address of the host: no later attempt can do better.
                outcome = delivery with { State = CallbackState.DeadLettered, LastStatusCode = null, LastError = error, Owner = null, NextAttemptAt = now };
                LogRefused(logger, delivery.WorkId, error, delivery.RequestId);
            }
            else if (delivery.Attempts >= _options.MaxAttempts)
            {
                outcome = delivery with { State = CallbackState.DeadLettered, LastStatusCode = statusCode, LastError = error, Owner = null, NextAttemptAt = now };
                LogDeadLettered(logger, delivery.WorkId, delivery.Attempts, error, delivery.RequestId);
            }
            else
            {
                var delay = _options.RetryDelay(delivery.Attempts, Random.Shared);
                outcome = delivery with { State = CallbackState.Pending, LastStatusCode = statusCode, LastError = error, Owner = null, NextAttemptAt = now + delay };
                LogFailedAttempt(logger, delivery.WorkId, delivery.Attempts, error, delay.TotalSeconds, delivery.RequestId);
            }

            Telemetry.CallbackAttempts.Add(1, new KeyValuePair<string, object?>("calc.outcome", error is null ? "delivered" : refused ? "refused" : "failed"));
            if (outcome.State == CallbackState.DeadLettered)
            {
                Telemetry.CallbackDeadLetters.Add(1);
            }

            await StoreOutcomeAsync(claimed, outcome);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping mid-attempt: hand it back due now, not counting this attempt, for whichever process runs next.
            await StoreOutcomeAsync(claimed, delivery with { Attempts = delivery.Attempts - 1, Owner = null, NextAttemptAt = time.GetUtcNow() });
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // The store failed (the claim's lease runs out and the delivery is attempted again) or the source threw.
            LogAttemptBroken(logger, exception, delivery.WorkId);
        }
    }

    private async Task<(int? StatusCode, string? Error, bool Refused)> PostAsync(CallbackDelivery delivery, ReadOnlyMemory<byte> body, CancellationToken stoppingToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        timeout.CancelAfter(_options.AttemptTimeout);
        using var request = new HttpRequestMessage(HttpMethod.Post, delivery.Url) { Content = new ReadOnlyMemoryContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        if (delivery.RequestId is { } requestId)
        {
            request.Headers.TryAddWithoutValidation("X-Request-Id", requestId);
        }

        if (System.Diagnostics.Activity.Current is null && delivery.TraceParent is { } traceParent)
        {
            // Tracing is off here, but the receiver can still join the work's trace.
            request.Headers.TryAddWithoutValidation("traceparent", traceParent);
        }

        request.Headers.TryAddWithoutValidation("X-Calc-Callback-Id", delivery.WorkId);
        request.Headers.TryAddWithoutValidation("X-Calc-Callback-Attempt", delivery.Attempts.ToString(CultureInfo.InvariantCulture));
        try
        {
            using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var status = (int)response.StatusCode;
            return response.IsSuccessStatusCode ? (status, null, false) : (status, $"The receiver answered {status} {response.ReasonPhrase}.", false);
        }
        catch (HttpRequestException exception) when (OutboundAddressRefusedException.In(exception) is { } refused)
        {
            return (null, $"The receiver is refused: {refused.Message}.", true);
        }
        catch (HttpRequestException exception)
        {
            return (null, $"The receiver could not be reached: {exception.Message}", false);
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            return (null, $"The receiver did not answer within {_options.AttemptTimeout.TotalSeconds:0.###} s.", false);
        }
    }

    // Only the claim's holder stores an outcome: a versioned write at the claimed version.
    private async Task StoreOutcomeAsync(StoredDocument<CallbackDelivery> claimed, CallbackDelivery outcome)
    {
        var write = await repository.UpdateAsync(claimed.Id, outcome, claimed.Version, claimed.ExpiresAt, CancellationToken.None);
        if (!write.Succeeded && write.Status != WriteStatus.NotFound)
        {
            LogLostClaim(logger, claimed.Id, write.Status);
        }
    }

    private async Task SweepWaitingAsync(CancellationToken cancellationToken)
    {
        for (var page = 0; page < MaxSweepPages; page++)
        {
            var due = (await repository.QueryAsync(new DocumentQuery(Waiting, 0, PageSize), cancellationToken))
                .Where(d => d.Document.NextAttemptAt <= time.GetUtcNow())
                .ToList();
            foreach (var stored in due)
            {
                var content = await source.GetContentAsync(stored.Id, cancellationToken);
                var now = time.GetUtcNow();
                switch (content.Kind)
                {
                    case CallbackContentKind.Gone:
                        await repository.DeleteAsync(stored.Id, cancellationToken);
                        break;
                    case CallbackContentKind.Final:
                        await outbox.ArmAsync(stored.Id, cancellationToken);
                        LogArmedBySweep(logger, stored.Id);
                        break;
                    default:
                        await repository.ChangeAsync(
                            stored.Id,
                            d => d.State == CallbackState.Waiting ? d with { NextAttemptAt = now + _options.SweepInterval } : null,
                            cancellationToken);
                        break;
                }
            }

            if (due.Count < PageSize)
            {
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Callback for {WorkId} delivered to {Url}: {StatusCode}, attempt {Attempt} (request {RequestId})")]
    private static partial void LogDelivered(ILogger logger, string workId, string url, int statusCode, int attempt, string? requestId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Callback for {WorkId} attempt {Attempt} failed: {Error}; next attempt in {Seconds:0.0} s (request {RequestId})")]
    private static partial void LogFailedAttempt(ILogger logger, string workId, int attempt, string error, double seconds, string? requestId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Callback for {WorkId} dead-lettered after {Attempts} attempts: {Error} (request {RequestId})")]
    private static partial void LogDeadLettered(ILogger logger, string workId, int attempts, string error, string? requestId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Callback for {WorkId} dead-lettered at once: {Error} (request {RequestId})")]
    private static partial void LogRefused(ILogger logger, string workId, string error, string? requestId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Callback for {WorkId} dropped: the work no longer exists (request {RequestId})")]
    private static partial void LogDropped(ILogger logger, string workId, string? requestId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Callback for {WorkId} armed by the sweep: its work was final")]
    private static partial void LogArmedBySweep(ILogger logger, string workId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Callback for {WorkId}: the outcome was not stored ({Status}); another process took the delivery over")]
    private static partial void LogLostClaim(ILogger logger, string workId, WriteStatus status);

    [LoggerMessage(Level = LogLevel.Error, Message = "Callback for {WorkId}: the attempt broke off; it is attempted again once its claim runs out")]
    private static partial void LogAttemptBroken(ILogger logger, Exception exception, string workId);

    [LoggerMessage(Level = LogLevel.Error, Message = "A callback dispatch pass failed; trying again at the next poll")]
    private static partial void LogPassFailed(ILogger logger, Exception exception);
}
