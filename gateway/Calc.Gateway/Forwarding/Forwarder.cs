using System.Globalization;
using System.Net;
using Calc.Core.Discovery;
using Calc.Core.Idempotency;
using Calc.Gateway.Balancing;
using Calc.Gateway.Registry;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Calc.Gateway.Forwarding;

/// <summary>
/// Forwards one client request to an instance of a service and streams the answer back. Each attempt goes to a
/// different instance chosen by the <see cref="LoadBalancer"/>, through that instance's circuit breaker and timeout.
/// Another attempt is made when nothing can have been done (the breaker refused the call, the connection could not be
/// made, or the instance answered 503 from admission control) and, for retry-safe requests, also after an error or a
/// timeout. Retry-safe: the idempotent methods, and a POST with an <c>Idempotency-Key</c> (the services answer a
/// repeat with the resource the first one made, so sending it again makes nothing twice). A PUT is retry-safe only
/// with a key too, since <c>PUT /calculations/{id}</c> appends a term: one without is given a key of the gateway's
/// own (<see cref="RetryKeyFor"/>), the same on every attempt. When no instance takes the request: 503 problem
/// details with Retry-After.
/// </summary>
internal sealed partial class Forwarder(
    ServiceRegistry registry,
    LoadBalancer balancer,
    HttpMessageInvoker invoker,
    IOptions<ResilienceOptions> options,
    IProblemDetailsService problems,
    ILogger<Forwarder> logger)
{
    private const int MaxAttemptsLimit = 10;

    /// <summary>Starts every <c>Idempotency-Key</c> the gateway makes (<see cref="RetryKeyFor"/>; the fast lane's too).</summary>
    internal const string GatewayKeyPrefix = "gw-";

    private readonly ResilienceOptions _options = options.Value;

    public async Task ForwardAsync(HttpContext context, string service)
    {
        // A declared body over Limits:MaxRequestBodyBytes is refused before anything else, so the client hears 413
        // whether or not an instance is up (Kestrel alone would say so only once the body is read, when forwarding).
        if (context.Request.ContentLength > context.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize)
        {
            throw new BadHttpRequestException("The request body is larger than the gateway accepts.", StatusCodes.Status413PayloadTooLarge);
        }

        var instances = registry.Find(service);
        if (instances is null || instances.Instances.Length == 0)
        {
            await NoInstanceAsync(context, service, $"No instance of '{service}' is registered.", _options.RetryAfterSeconds);
            return;
        }

        var method = context.Request.Method;
        var idempotent = IsRetrySafe(context.Request);
        var body = await ReadReplayableBodyAsync(context);
        var retryKey = RetryKeyFor(context.Request);
        var streamedBody = body is null && HasBody(context.Request);

        var tried = default(TriedInstances); // On the stack frame of this method, not a new array per request.
        var maxAttempts = Math.Min(_options.MaxAttempts, MaxAttemptsLimit);
        var refusedRetryAfter = 0;
        var sawFailure = false;
        for (var attempt = 0; attempt < maxAttempts; attempt++)
        {
            var instance = balancer.Pick(instances, tried[..attempt]);
            if (instance is null)
            {
                break;
            }

            tried[attempt] = instance;
            var last = attempt == maxAttempts - 1;
            instance.Begin();
            try
            {
                UpstreamResponse response;
                try
                {
                    using var request = CreateRequest(context, instance, body, streamedBody, retryKey);
                    var bufferLimit = idempotent && !streamedBody ? _options.BufferedResponseBytes : 0;
                    response = await instance.Pipeline.ExecuteAsync(
                        static (state, token) => UpstreamResponse.ReceiveAsync(state.Invoker, state.Request, state.BufferLimit, token),
                        (Invoker: invoker, Request: request, BufferLimit: bufferLimit),
                        context.RequestAborted);
                }
                catch (BrokenCircuitException)
                {
                    continue; // Refused before anything was sent (half-open, probe already running).
                }
                catch (TimeoutRejectedException)
                {
                    instance.CountFailure();
                    sawFailure = true;
                    LogAttemptFailed(logger, method, instance.Entry.InstanceId, "timeout", context.TraceIdentifier);
                    if (idempotent && !streamedBody)
                    {
                        continue;
                    }

                    await ProblemAsync(context, StatusCodes.Status504GatewayTimeout, "The instance did not answer in time.", null);
                    return;
                }
                catch (Exception exception) when (exception is HttpRequestException or IOException && !context.RequestAborted.IsCancellationRequested)
                {
                    instance.CountFailure();
                    sawFailure = true;
                    LogAttemptFailed(logger, method, instance.Entry.InstanceId, exception.Message, context.TraceIdentifier);
                    // A connection that could not be made carried nothing: safe to retry whatever the method.
                    if (!streamedBody && (idempotent || exception is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError }))
                    {
                        continue;
                    }

                    await ProblemAsync(context, StatusCodes.Status502BadGateway, "The instance failed while handling the request.", null);
                    return;
                }

                using (response)
                {
                    // NonValidated: no parsing into a header value collection, no array, for one string.
                    if (response.Message.Headers.NonValidated.TryGetValues(InstanceLoad.HeaderName, out var loads)
                        && loads.Count > 0 && InstanceLoad.TryParse(FirstValue(loads), out var load))
                    {
                        instance.ReportLoad(load);
                    }

                    // Admission control refused it: nothing was done, another instance may have room.
                    if (response.Message.StatusCode == HttpStatusCode.ServiceUnavailable && !last && !streamedBody)
                    {
                        refusedRetryAfter = Math.Max(refusedRetryAfter, RetryAfterSeconds(response.Message));
                        continue;
                    }

                    try
                    {
                        await CopyResponseAsync(context, response);
                    }
                    catch (Exception exception) when (exception is IOException or HttpRequestException or OperationCanceledException)
                    {
                        // The client went away, or the instance did after the status line was sent: nothing to
                        // retry or report any more, only the connection to cut so the client sees it incomplete.
                        if (!context.RequestAborted.IsCancellationRequested)
                        {
                            instance.CountFailure();
                            LogAttemptFailed(logger, method, instance.Entry.InstanceId, "response cut short: " + exception.Message, context.TraceIdentifier);
                        }

                        context.Abort();
                    }

                    return;
                }
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
                return; // The client went away.
            }
            finally
            {
                instance.End();
            }
        }

        var detail = refusedRetryAfter > 0
            ? $"Every instance of '{service}' tried is at capacity."
            : sawFailure
                ? $"No instance of '{service}' could handle the request."
                : $"No instance of '{service}' is available (circuits open).";
        await NoInstanceAsync(context, service, detail, Math.Max(refusedRetryAfter, _options.RetryAfterSeconds));
    }

    /// <summary>Whether sending the request a second time, to another instance, cannot do anything twice.</summary>
    private static bool IsRetrySafe(HttpRequest request)
    {
        var method = request.Method;
        return HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method)
               || HttpMethods.IsPut(method) || HttpMethods.IsDelete(method) || HttpMethods.IsTrace(method)
               || (HttpMethods.IsPost(method) && request.Headers.ContainsKey(IdempotencyKeys.HeaderName));
    }

    /// <summary>
    /// The <c>Idempotency-Key</c> the gateway attaches to a PUT the client sent without one: RFC 9110 calls PUT
    /// idempotent, but <c>PUT /calculations/{id}</c> appends a term, so an attempt whose instance stored the term and
    /// then died would be added again by the retry. Made once per client request and sent on every attempt, so the
    /// instance that gets the retry finds the key applied and adds nothing. Fresh, never the client's
    /// <c>X-Request-Id</c>: a client may send one id with several requests, which would make them one term.
    /// </summary>
    internal static string? RetryKeyFor(HttpRequest request) =>
        HttpMethods.IsPut(request.Method) && !request.Headers.ContainsKey(IdempotencyKeys.HeaderName)
            ? GatewayKeyPrefix + Guid.NewGuid().ToString("N")
            : null;

    private static string? FirstValue(System.Net.Http.Headers.HeaderStringValues values)
    {
        foreach (var value in values)
        {
            return value;
        }

        return null;
    }

    private static bool HasBody(HttpRequest request) =>
        request.ContentLength > 0
        || (request.ContentLength is null && request.HttpContext.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == true);

    // Small bodies are read once so they can be sent to another instance; large or unknown-length ones stream.
    private async Task<byte[]?> ReadReplayableBodyAsync(HttpContext context)
    {
        var length = context.Request.ContentLength;
        if (length is null or 0 || length > _options.ReplayableBodyBytes)
        {
            return length == 0 ? [] : null;
        }

        var buffer = new byte[length.Value];
        await context.Request.Body.ReadExactlyAsync(buffer, context.RequestAborted);
        return buffer;
    }

    private static HttpRequestMessage CreateRequest(HttpContext context, UpstreamInstance instance, byte[]? body, bool streamedBody, string? retryKey)
    {
        var incoming = context.Request;
        var uri = new Uri(string.Concat(instance.BaseUrl, incoming.PathBase.ToUriComponent(), incoming.Path.ToUriComponent(), incoming.QueryString.ToUriComponent()));
        var request = new HttpRequestMessage(HttpMethod.Parse(incoming.Method), uri)
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
            Content = body is { Length: > 0 } ? new ByteArrayContent(body) : streamedBody ? new StreamContent(incoming.Body) : null,
        };
        ProxyHeaders.CopyRequestHeaders(context, request);
        if (retryKey is not null)
        {
            request.Headers.TryAddWithoutValidation(IdempotencyKeys.HeaderName, retryKey);
        }

        return request;
    }

    private static async Task CopyResponseAsync(HttpContext context, UpstreamResponse response)
    {
        var target = context.Response;
        target.StatusCode = (int)response.Message.StatusCode;
        ProxyHeaders.CopyResponseHeaders(response.Message, target);
        // A body read whole is sent with its length rather than chunked (not for HEAD, 204 or 304: no body there).
        if (response.CompleteLength is { } length && target.ContentLength is null && !HttpMethods.IsHead(context.Request.Method)
            && target.StatusCode is not (StatusCodes.Status204NoContent or StatusCodes.Status304NotModified))
        {
            target.ContentLength = length;
        }

        await response.CopyBodyToAsync(target.Body, context.RequestAborted);
    }

    private static int RetryAfterSeconds(HttpResponseMessage response) =>
        response.Headers.RetryAfter?.Delta is { } delta ? (int)Math.Ceiling(delta.TotalSeconds)
        : response.Headers.RetryAfter?.Date is { } date ? (int)Math.Max(1, Math.Ceiling((date - DateTimeOffset.UtcNow).TotalSeconds))
        : 1;

    private async Task NoInstanceAsync(HttpContext context, string service, string detail, int retryAfterSeconds)
    {
        LogNoInstance(logger, service, context.TraceIdentifier, detail);
        await ProblemAsync(context, StatusCodes.Status503ServiceUnavailable, detail, retryAfterSeconds);
    }

    private async Task ProblemAsync(HttpContext context, int status, string detail, int? retryAfterSeconds)
    {
        if (context.Response.HasStarted)
        {
            context.Abort();
            return;
        }

        context.Response.StatusCode = status;
        if (retryAfterSeconds is { } seconds)
        {
            context.Response.Headers[HeaderNames.RetryAfter] = seconds.ToString(CultureInfo.InvariantCulture);
        }

        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = { Status = status, Detail = detail },
        });
    }

    [LoggerMessage(LogLevel.Warning, "{Method} to instance {InstanceId} failed: {Reason} (request {RequestId}).")]
    private static partial void LogAttemptFailed(ILogger logger, string method, string instanceId, string reason, string requestId);

    [LoggerMessage(LogLevel.Warning, "No instance of {Service} took request {RequestId}: {Detail}")]
    private static partial void LogNoInstance(ILogger logger, string service, string requestId, string detail);

    /// <summary>The instances one request has tried, at most <see cref="MaxAttemptsLimit"/>: a struct, no array per request.</summary>
    [System.Runtime.CompilerServices.InlineArray(MaxAttemptsLimit)]
    private struct TriedInstances
    {
        private UpstreamInstance? _first;
    }
}
