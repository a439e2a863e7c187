using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Calc.Core.Hosting;

/// <summary>Problem details every service answers the same way.</summary>
public static class ProblemResults
{
    /// <summary>
    /// 503 with a <c>Retry-After</c> header: nothing was done (no free slot, the queue unreachable), so the client may
    /// send the same request again after <paramref name="retryAfterSeconds"/>. The gateway relies on this meaning to
    /// retry any method on another instance.
    /// </summary>
    public static ProblemHttpResult ServiceUnavailable(HttpContext context, int retryAfterSeconds, string title, string detail)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.Headers.RetryAfter = retryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: title, detail: detail);
    }
}
