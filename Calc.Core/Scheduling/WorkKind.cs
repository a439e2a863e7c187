using Microsoft.AspNetCore.Http.HttpResults;

namespace Calc.Core.Scheduling;

/// <summary>
/// What the slices every service shares (<see cref="CancelWorkEndpoint{TWork, TResponse}"/>,
/// <see cref="Callbacks.CallbackRetryEndpoint{TWork}"/>) need to know of a service's work.
/// </summary>
/// <param name="Route">The work's route, e.g. <c>/calculations</c>.</param>
/// <param name="Noun">What the work is called in messages, e.g. <c>calculation</c>.</param>
/// <param name="OperationNoun">The noun in OpenAPI operation names, e.g. <c>Calculation</c> (<c>CancelCalculation</c>).</param>
/// <param name="Tag">The OpenAPI tag, e.g. <c>Calculations</c>.</param>
/// <param name="NotFound">The service's 404 for an id.</param>
/// <param name="WrongState">The service's 409 for a detail.</param>
public sealed record WorkKind(
    string Route,
    string Noun,
    string OperationNoun,
    string Tag,
    Func<string, ProblemHttpResult> NotFound,
    Func<string, ProblemHttpResult> WrongState);
