using Calc.Core.Scheduling;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Calc.Jobs.Domain;

/// <summary>The service's expected failures as RFC 9457 problem details.</summary>
internal static class Problems
{
    /// <summary>Jobs for the slices every service shares (cancel, callback retry).</summary>
    public static readonly WorkKind Kind = new("/jobs", "job", "Job", "Jobs", NotFound, WrongState);

    public static ProblemHttpResult NotFound(string id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Job not found", detail: $"There is no job '{id}' (or it has expired).");

    public static ProblemHttpResult WrongState(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The job is not in a state that allows this", detail: detail);

    public static ProblemHttpResult AlreadyExists(string id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Job exists", detail: $"A job with id '{id}' exists already.");
}
