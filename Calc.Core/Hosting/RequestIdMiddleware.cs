using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Calc.Hosting;

/// <summary>
/// Gives every request one id that follows it through the system: taken from <c>X-Request-Id</c> when the caller
/// (the gateway) sent a well-formed one, created otherwise; echoed in the response, put in every log line's scope
/// as <c>RequestId</c>, and used as <see cref="HttpContext.TraceIdentifier"/> (so problem details carry it).
/// </summary>
internal sealed partial class RequestIdMiddleware(RequestDelegate next, ILogger<RequestIdMiddleware> logger)
{
    public const string HeaderName = "X-Request-Id";

    public async Task InvokeAsync(HttpContext context)
    {
        var incoming = context.Request.Headers[HeaderName].ToString();
        var requestId = IsWellFormed(incoming) ? incoming : Guid.NewGuid().ToString("N");
        context.TraceIdentifier = requestId;
        context.Response.Headers[HeaderName] = requestId;

        // A message-template scope: structured (RequestId) in JSON logs, and readable in plain-text ones.
        using (logger.BeginScope("RequestId:{RequestId}", requestId))
        {
            await next(context);
        }
    }

    // A forwarded id lands in logs and headers: accept only short, plain ids.
    private static bool IsWellFormed(string value) => value.Length is > 0 and <= 128 && SafeId().IsMatch(value);

    [GeneratedRegex("^[A-Za-z0-9._:-]+$")]
    private static partial Regex SafeId();
}
