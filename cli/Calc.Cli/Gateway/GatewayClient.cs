using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Calc.Cli.Gateway;

/// <summary>
/// The gateway's REST API as the CLI uses it: JSON in, JSON out. Every failure becomes a <see cref="CliException"/>
/// whose message says in words what went wrong (the problem details' title, detail and field errors, Retry-After) and
/// whose exit code tells a script which kind of failure it was. Every POST and PUT carries an <c>Idempotency-Key</c> of
/// its own, so the gateway may send it to another instance when the first fails mid-request: a repeat makes nothing
/// twice (a create answers the calculation the first one made; a term is not added twice).
/// </summary>
internal sealed class GatewayClient(HttpClient http) : IDisposable
{
    /// <summary>The start of every key the CLI makes, so a key in a service's logs says where it came from.</summary>
    internal const string IdempotencyKeyPrefix = "cli-";

    public Uri BaseAddress => http.BaseAddress!;

    public static GatewayClient Create(Uri gateway, TimeSpan timeout) =>
        new(new HttpClient { BaseAddress = gateway, Timeout = timeout });

    public Task<JsonNode> GetAsync(string path, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, path, null, cancellationToken);

    public Task<JsonNode> PostAsync(string path, JsonNode? body, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, path, body, cancellationToken);

    public Task<JsonNode> PutAsync(string path, JsonNode? body, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Put, path, body, cancellationToken);

    public Task<JsonNode> DeleteAsync(string path, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Delete, path, null, cancellationToken);

    public async Task<JsonNode> SendAsync(HttpMethod method, string path, JsonNode? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        if (method == HttpMethod.Post || method == HttpMethod.Put)
        {
            request.Headers.Add("Idempotency-Key", IdempotencyKeyPrefix + Guid.NewGuid().ToString("N"));
        }

        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException exception)
        {
            throw new CliException(ExitCodes.Unavailable, $"the gateway at {BaseAddress} is unreachable: {Describe(exception)}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CliException(ExitCodes.Unavailable, $"the gateway at {BaseAddress} did not answer within {http.Timeout.TotalSeconds:0} s");
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                return ParseJson(text) ?? throw new CliException(ExitCodes.Unavailable, $"{method} {path} answered {(int)response.StatusCode} without a JSON body");
            }

            throw Failure(method, path, response, ParseJson(text) as JsonObject, text);
        }
    }

    public void Dispose() => http.Dispose();

    private static JsonNode? ParseJson(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Describe(HttpRequestException exception) => exception.InnerException switch
    {
        SocketException socket => socket.SocketErrorCode switch
        {
            SocketError.ConnectionRefused => "connection refused (is it running? `calc up` starts it)",
            _ => socket.Message,
        },
        { } inner => inner.Message,
        null => exception.Message,
    };

    // Problem details (RFC 9457) in words: "<title> (<status>): <detail>", then one line per field error.
    private static CliException Failure(HttpMethod method, string path, HttpResponseMessage response, JsonObject? problem, string text)
    {
        var status = (int)response.StatusCode;
        var title = problem?["title"]?.GetValue<string>() ?? response.ReasonPhrase ?? "request failed";
        var detail = problem?["detail"]?.GetValue<string>();
        var message = new StringBuilder();
        message.Append(CultureInfo.InvariantCulture, $"{method} {path}: {title} ({status})");
        if (!string.IsNullOrWhiteSpace(detail) && detail != title)
        {
            message.Append(CultureInfo.InvariantCulture, $": {detail}");
        }
        else if (problem is null && !string.IsNullOrWhiteSpace(text))
        {
            message.Append(CultureInfo.InvariantCulture, $": {Truncate(text.Trim(), 300)}");
        }

        if (problem?["errors"] is JsonObject errors)
        {
            foreach (var (field, messages) in errors)
            {
                var list = messages is JsonArray array ? array.Select(m => m?.ToString()) : [messages?.ToString()];
                foreach (var line in list)
                {
                    message.Append(CultureInfo.InvariantCulture, $"\n  {field}: {line}");
                }
            }
        }

        if (RetryAfter(response.Headers.RetryAfter) is { } retry)
        {
            message.Append(CultureInfo.InvariantCulture, $"\n  retry after {retry.TotalSeconds:0} s");
        }

        if (response.Headers.TryGetValues("X-Request-Id", out var ids) && ids.FirstOrDefault() is { Length: > 0 } requestId)
        {
            message.Append(CultureInfo.InvariantCulture, $"\n  request id: {requestId}");
        }

        var exitCode = response.StatusCode switch
        {
            HttpStatusCode.ServiceUnavailable or HttpStatusCode.TooManyRequests => ExitCodes.Unavailable,
            >= HttpStatusCode.InternalServerError => ExitCodes.Unavailable,
            _ => ExitCodes.Usage,
        };
        return new CliException(exitCode, message.ToString());
    }

    private static TimeSpan? RetryAfter(RetryConditionHeaderValue? header) => header switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - DateTimeOffset.UtcNow,
        _ => null,
    };

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..length] + "…";
}
