using System.Net.Http.Headers;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Calc.Gateway.Forwarding;

/// <summary>Header copying between the client's request/response and the instance's (RFC 9110 section 7.6.1).</summary>
internal static class ProxyHeaders
{
    public const string ForwardedFor = "X-Forwarded-For";
    public const string ForwardedProto = "X-Forwarded-Proto";
    public const string ForwardedHost = "X-Forwarded-Host";
    public const string RequestId = "X-Request-Id";
    public const string TraceParent = "traceparent";
    public const string TraceState = "tracestate";

    // Hop-by-hop: they describe one connection, not the message; never forwarded either way.
    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        HeaderNames.Connection, HeaderNames.KeepAlive, HeaderNames.ProxyAuthenticate, HeaderNames.ProxyAuthorization,
        HeaderNames.TE, HeaderNames.Trailer, HeaderNames.TransferEncoding, HeaderNames.Upgrade, "Proxy-Connection",
    };

    public static void CopyRequestHeaders(HttpContext context, HttpRequestMessage request)
    {
        var headers = context.Request.Headers;
        var connectionNamed = headers.Connection;
        // Under a span (the request's, continued from the client's traceparent), HttpClient's propagator writes the
        // trace context of the forward; without one the client's goes on as it is.
        var traced = System.Diagnostics.Activity.Current is not null;
        foreach (var (name, values) in headers)
        {
            if (HopByHop.Contains(name) || (connectionNamed.Count > 0 && IsNamedIn(connectionNamed, name))
                || name.Equals(HeaderNames.Host, StringComparison.OrdinalIgnoreCase)
                || name.Equals(HeaderNames.Expect, StringComparison.OrdinalIgnoreCase) // Kestrel answered it already.
                || name.Equals(ForwardedFor, StringComparison.OrdinalIgnoreCase)
                || name.Equals(ForwardedProto, StringComparison.OrdinalIgnoreCase)
                || name.Equals(ForwardedHost, StringComparison.OrdinalIgnoreCase)
                || name.Equals(RequestId, StringComparison.OrdinalIgnoreCase)
                || (traced && (name.Equals(TraceParent, StringComparison.OrdinalIgnoreCase) || name.Equals(TraceState, StringComparison.OrdinalIgnoreCase)))
                || name.StartsWith(':'))
            {
                continue;
            }

            // One value is the common case: add it as a string, without boxing the StringValues into an IEnumerable.
            var added = values.Count == 1
                ? request.Headers.TryAddWithoutValidation(name, values.ToString())
                : request.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            if (!added && request.Content is not null)
            {
                _ = values.Count == 1
                    ? request.Content.Headers.TryAddWithoutValidation(name, values.ToString())
                    : request.Content.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }

        // X-Forwarded-For grows by one hop; Proto and Host describe the original request as the client made it.
        var clientIp = context.Connection.RemoteIpAddress?.ToString();
        var forwardedFor = headers[ForwardedFor];
        request.Headers.TryAddWithoutValidation(ForwardedFor,
            StringValues.IsNullOrEmpty(forwardedFor) ? clientIp ?? "unknown" : $"{forwardedFor}, {clientIp ?? "unknown"}");
        request.Headers.TryAddWithoutValidation(ForwardedProto, context.Request.Scheme);
        request.Headers.TryAddWithoutValidation(ForwardedHost, context.Request.Host.Value);
        // The id RequestIds settled on (forwarded or created), so the instance logs the same one.
        request.Headers.TryAddWithoutValidation(RequestId, context.TraceIdentifier);
    }

    public static void CopyResponseHeaders(HttpResponseMessage response, HttpResponse target)
    {
        // Read without validation: the typed Connection property would parse it into a new collection every time.
        var connectionNamed = response.Headers.NonValidated.TryGetValues(HeaderNames.Connection, out var connection)
            ? new StringValues([.. connection])
            : StringValues.Empty;
        Copy(response.Headers, target, connectionNamed);
        Copy(response.Content.Headers, target, connectionNamed);
    }

    private static void Copy(HttpHeaders source, HttpResponse target, StringValues connectionNamed)
    {
        var headers = target.Headers;
        foreach (var header in source.NonValidated)
        {
            var name = header.Key;
            if (HopByHop.Contains(name) || (connectionNamed.Count > 0 && IsNamedIn(connectionNamed, name)))
            {
                continue;
            }

            headers[name] = header.Value.Count == 1 ? new StringValues(header.Value.ToString()) : new StringValues([.. header.Value]);
        }
    }

    // Whether a Connection header value (a comma-separated token list, maybe several lines) names the header.
    private static bool IsNamedIn(StringValues connection, string name)
    {
        foreach (var value in connection)
        {
            if (value is null)
            {
                continue;
            }

            foreach (var range in value.AsSpan().Split(','))
            {
                if (value.AsSpan(range).Trim().Equals(name, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }
}
