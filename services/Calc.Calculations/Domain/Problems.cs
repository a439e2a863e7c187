using Calc.Core.Hosting;
using Calc.Core.Scheduling;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Calc.Calculations.Domain;

/// <summary>The service's expected failures as RFC 9457 problem details.</summary>
internal static class Problems
{
    /// <summary>Calculations for the slices every service shares (cancel, callback retry).</summary>
    public static readonly WorkKind Kind = new("/calculations", "calculation", "Calculation", "Calculations", NotFound, WrongState);

    public static ProblemHttpResult NotFound(string id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Calculation not found", detail: $"There is no calculation '{id}'.");

    public static ProblemHttpResult WrongState(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The calculation is not in a state that allows this", detail: detail);

    /// <summary>503 with Retry-After: nothing was done, the client may retry the same request later.</summary>
    public static ProblemHttpResult NoCapacity(HttpContext context, int retryAfterSeconds) => ProblemResults.ServiceUnavailable(
        context,
        retryAfterSeconds,
        "No capacity",
        "Every processing slot this priority may use is busy. The calculation is still building; finalize it again later.");
}
