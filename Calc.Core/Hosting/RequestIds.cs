using System.Buffers;
using Microsoft.AspNetCore.Http;

namespace Calc.Core.Hosting;

/// <summary>
/// The one rule for a request's id, shared by <see cref="RequestIdMiddleware"/> and the gateway's forwarding path:
/// taken from <c>X-Request-Id</c> when the caller sent a well-formed one, created otherwise; echoed in the response and
/// used as <see cref="HttpContext.TraceIdentifier"/> (so problem details carry it), and set on the request's span as
/// <see cref="Telemetry.RequestIdTag"/>.
/// </summary>
public static class RequestIds
{
    /// <summary>The header that carries a request's id between the gateway, the services and the client.</summary>
    public const string HeaderName = "X-Request-Id";

    private static readonly SearchValues<char> SafeChars = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-");

    private static readonly SearchValues<byte> SafeBytes = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-"u8);

    /// <summary>Settles the request's id (forwarded or new), sets it as trace identifier and response header, and returns it.</summary>
    public static string Assign(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var incoming = context.Request.Headers[HeaderName].ToString();
        var requestId = IsWellFormed(incoming) ? incoming : Guid.NewGuid().ToString("N");
        context.TraceIdentifier = requestId;
        context.Response.Headers[HeaderName] = requestId;
        if (System.Diagnostics.Activity.Current is { IsAllDataRequested: true } activity)
        {
            activity.SetTag(Telemetry.RequestIdTag, requestId);
        }

        return requestId;
    }

    /// <summary>
    /// Whether a forwarded id may be kept: it lands in logs and headers, so only short, plain ids (1 to 128 of
    /// <c>A-Z a-z 0-9 . _ : -</c>).
    /// </summary>
    public static bool IsWellFormed(ReadOnlySpan<char> value) => value.Length is > 0 and <= 128 && !value.ContainsAnyExcept(SafeChars);

    /// <summary>The same rule for an id still in the request's bytes (the gateway's fast lane).</summary>
    public static bool IsWellFormed(ReadOnlySpan<byte> value) => value.Length is > 0 and <= 128 && !value.ContainsAnyExcept(SafeBytes);
}
