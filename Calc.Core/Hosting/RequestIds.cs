using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace Calc.Hosting;

/// <summary>
/// The one rule for a request's id, shared by <see cref="RequestIdMiddleware"/> and the gateway's forwarding path:
/// taken from <c>X-Request-Id</c> when the caller sent a well-formed one, created otherwise; echoed in the response and
/// used as <see cref="HttpContext.TraceIdentifier"/> (so problem details carry it).
/// </summary>
public static partial class RequestIds
{
    /// <summary>The header that carries a request's id between the gateway, the services and the client.</summary>
    public const string HeaderName = "X-Request-Id";

    /// <summary>Settles the request's id (forwarded or new), sets it as trace identifier and response header, and returns it.</summary>
    public static string Assign(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var incoming = context.Request.Headers[HeaderName].ToString();
        var requestId = IsWellFormed(incoming) ? incoming : Guid.NewGuid().ToString("N");
        context.TraceIdentifier = requestId;
        context.Response.Headers[HeaderName] = requestId;
        return requestId;
    }

    // A forwarded id lands in logs and headers: accept only short, plain ids.
    private static bool IsWellFormed(string value) => value.Length is > 0 and <= 128 && SafeId().IsMatch(value);

    [GeneratedRegex("^[A-Za-z0-9._:-]+$")]
    private static partial Regex SafeId();
}
