using System.Text;
using System.Text.Json;
using Calc.Core.Callbacks;
using Calc.Core.Outbound;
using Calc.Core.Scheduling;
using Calc.Jobs.Domain;
using Microsoft.Extensions.Options;

namespace Calc.Jobs.Processing;

/// <summary>
/// Fetches a fetch job's data from its provider (a URL from <c>Jobs:Providers</c>, by name): each call on the I/O lane
/// with its own timeout; a failed call (no answer, not 2xx) is retried after an exponential backoff with jitter, up to
/// <c>Jobs:FetchMaxAttempts</c> calls, all within the job's timeout. A provider whose every address the address policy
/// refuses (<c>Jobs:FetchAllowedNetworks</c>) fails the job at once: no retry can change that.
/// </summary>
internal sealed partial class ProviderFetcher(
    IHttpClientFactory httpClients,
    WorkLanes lanes,
    IOptions<JobsOptions> options,
    TimeProvider time,
    ILogger<ProviderFetcher> logger)
{
    public const string HttpClientName = "calc.providers";

    public async Task<FetchOutcome> FetchAsync(Job job, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (job.Provider is null || !settings.Providers.TryGetValue(job.Provider, out var url))
        {
            return new FetchOutcome(null, $"The provider '{job.Provider}' is not configured (Jobs:Providers) on this worker.", 0);
        }

        string error;
        var attempt = 0;
        while (true)
        {
            attempt++;
            LogCalling(logger, job.Id, job.Provider, attempt, job.RequestId);
            (var data, error, var refused) = await CallAsync(url, job.RequestId, cancellationToken);
            if (data is not null)
            {
                LogFetched(logger, job.Id, job.Provider, attempt, job.RequestId);
                return new FetchOutcome(data, null, attempt);
            }

            if (refused)
            {
                LogRefused(logger, job.Id, job.Provider, error, job.RequestId);
                return new FetchOutcome(null, $"The provider '{job.Provider}' is refused: {error}", attempt);
            }

            if (attempt >= settings.FetchMaxAttempts)
            {
                LogGaveUp(logger, job.Id, job.Provider, attempt, error, job.RequestId);
                return new FetchOutcome(null, $"The provider '{job.Provider}' failed {attempt} times; last: {error}", attempt);
            }

            var delay = Backoff.Delay(attempt, settings.FetchRetryBaseDelay, settings.FetchRetryMaxDelay, Random.Shared);
            LogRetrying(logger, job.Id, job.Provider, attempt, error, delay.TotalSeconds, job.RequestId);
            await Task.Delay(delay, time, cancellationToken);
        }
    }

    private async Task<(JsonElement? Data, string Error, bool Refused)> CallAsync(string url, string? requestId, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        // The HttpClient span under it is the call itself; this one also covers the wait for an I/O lane place.
        using var activity = JobsTelemetry.Source.StartActivity("provider fetch");
        using var place = await lanes.Io.EnterAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.FetchAttemptTimeout);
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (requestId is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Request-Id", requestId);
        }

        try
        {
            using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                return (null, $"it answered {(int)response.StatusCode} {response.ReasonPhrase}", false);
            }

            var body = await ReadBoundedAsync(response.Content, settings.FetchMaxBytes, timeout.Token);
            return body is null ? (null, $"its answer is larger than {settings.FetchMaxBytes} bytes (Jobs:FetchMaxBytes)", false) : (ToJson(body), "", false);
        }
        catch (HttpRequestException exception) when (OutboundAddressRefusedException.In(exception) is { } refused)
        {
            return (null, refused.Message, true);
        }
        catch (HttpRequestException exception)
        {
            return (null, $"it could not be reached: {exception.Message}", false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, $"it did not answer within {settings.FetchAttemptTimeout.TotalSeconds:0.###} s", false);
        }
    }

    private static async Task<byte[]?> ReadBoundedAsync(HttpContent content, int maxBytes, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    // JSON is kept as JSON; anything else as one JSON string.
    private static JsonElement ToJson(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return JsonSerializer.SerializeToElement(Encoding.UTF8.GetString(body));
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Fetch job {JobId}: calling provider {Provider}, attempt {Attempt} (request {RequestId})")]
    private static partial void LogCalling(ILogger logger, string jobId, string provider, int attempt, string? requestId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Fetch job {JobId}: provider {Provider} answered on attempt {Attempt} (request {RequestId})")]
    private static partial void LogFetched(ILogger logger, string jobId, string provider, int attempt, string? requestId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Fetch job {JobId}: provider {Provider} attempt {Attempt} failed: {Error}; retrying in {Seconds:0.00} s (request {RequestId})")]
    private static partial void LogRetrying(ILogger logger, string jobId, string provider, int attempt, string error, double seconds, string? requestId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Fetch job {JobId}: provider {Provider} failed {Attempts} times, giving up: {Error} (request {RequestId})")]
    private static partial void LogGaveUp(ILogger logger, string jobId, string provider, int attempts, string error, string? requestId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Fetch job {JobId}: provider {Provider} is refused, giving up at once: {Error} (request {RequestId})")]
    private static partial void LogRefused(ILogger logger, string jobId, string provider, string error, string? requestId);
}

/// <summary>What a fetch got: the data, or why there is none; and how many provider calls it made.</summary>
internal sealed record FetchOutcome(JsonElement? Data, string? Error, int Attempts);
