using Microsoft.Net.Http.Headers;

namespace Calc.Gateway.Http;

/// <summary>
/// The full path's half of <see cref="HeadRules"/>, first in the pipeline: a request whose head Kestrel parsed but a
/// strict parser refuses is answered 400 (problem details) with <c>Connection: close</c>, before anything is forwarded
/// or read of its body, so that bytes Kestrel did not take for a body cannot become the next request on the
/// connection. Kestrel already refuses the rest itself with 400 and a close: bare LFs (the gateway sets
/// <c>Microsoft.AspNetCore.Server.Kestrel.DisableHttp1LineFeedTerminators</c>), lone CRs, NUL and non-ASCII bytes,
/// folded lines, whitespace before a colon, several or malformed Content-Lengths, several Hosts, and a
/// Transfer-Encoding whose last coding is not chunked. What it lets through, and this refuses: names that are not
/// tokens (<c>\x01Content-Length</c> was an unknown field to Kestrel, so the body went unread and became the next
/// request), other control bytes in values, Content-Length other than digits (Kestrel reads <c>+1</c>), Transfer-Encoding with
/// Content-Length (Kestrel takes the chunked body, moves the length to <c>X-Content-Length</c> and closes afterwards;
/// so a client's own X-Content-Length beside Transfer-Encoding is refused too), Transfer-Encoding other than a single <c>chunked</c>, and Transfer-Encoding on HTTP/1.0.
/// </summary>
internal static class StrictRequestHeads
{
    private const string KestrelMovedContentLength = "X-Content-Length";

    public static WebApplication UseStrictRequestHeads(this WebApplication app)
    {
        var problems = app.Services.GetRequiredService<IProblemDetailsService>();
        app.Use(next => context => Refusal(context.Request) is { } refusal ? RefuseAsync(context, refusal) : next(context));
        return app;

        async Task RefuseAsync(HttpContext context, string refusal)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            context.Response.Headers.Connection = "close"; // Kestrel closes the connection after this answer
            await problems.WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = { Status = StatusCodes.Status400BadRequest, Title = "Bad Request", Detail = refusal },
            });
        }
    }

    /// <summary>Why the request's head is refused, or null when it is not.</summary>
    internal static string? Refusal(HttpRequest request)
    {
        if (!HttpProtocol.IsHttp10(request.Protocol) && !HttpProtocol.IsHttp11(request.Protocol))
        {
            return null; // HTTP/2 and 3 frame messages themselves; Kestrel checks their fields
        }

        var headers = request.Headers;
        foreach (var (name, values) in headers)
        {
            if (!HeadRules.IsToken(name))
            {
                return HeadRules.NameNotToken;
            }

            foreach (var value in values)
            {
                if (value is not null && HeadRules.HasControl(value))
                {
                    return HeadRules.ControlInValue;
                }
            }
        }

        // Kestrel parses "+1" (and surrounding whitespace) as a length; a strict parser reads only digits.
        var length = headers.ContentLength is null ? default : headers[HeaderNames.ContentLength];
        if (length.Count > 0 && (length.Count > 1 || length[0] is not { Length: > 0 } digits || digits.AsSpan().ContainsAnyExceptInRange('0', '9')))
        {
            return HeadRules.InvalidLength;
        }

        var transferEncoding = headers.TransferEncoding;
        if (transferEncoding.Count == 0)
        {
            return null;
        }

        // With Transfer-Encoding, Kestrel moves a Content-Length to X-Content-Length (and closes after the answer).
        return headers.ContainsKey(HeaderNames.ContentLength) || headers.ContainsKey(KestrelMovedContentLength) ? HeadRules.LengthWithTransferEncoding
            : HttpProtocol.IsHttp10(request.Protocol) ? HeadRules.TransferEncodingOnHttp10
            : transferEncoding.Count != 1 || !transferEncoding[0].AsSpan().Trim(" \t").Equals("chunked", StringComparison.OrdinalIgnoreCase)
                ? HeadRules.TransferCodingNotChunked
                : null;
    }
}
