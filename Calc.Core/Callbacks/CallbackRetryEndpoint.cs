using Calc.Core.Contracts;
using Calc.Data;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Calc.Core.Callbacks;

/// <summary>
/// <c>POST {group}/{id}/callback/retry</c>, the same for every service whose work takes a <c>callbackUrl</c>: re-arms a
/// dead-lettered delivery for a new round of attempts (202 with the delivery); 404 for unknown work (the service's own
/// problem), 409 when the delivery is not dead-lettered or the work has no callback.
/// </summary>
public static class CallbackRetryEndpoint
{
    /// <summary>Maps the endpoint on <paramref name="group"/> for work stored as <typeparamref name="TWork"/>.</summary>
    /// <param name="group">The work's route group, e.g. <c>/calculations</c>.</param>
    /// <param name="endpointName">The OpenAPI operation name, e.g. <c>RetryCalculationCallback</c>.</param>
    /// <param name="notFound">The service's 404 for an id.</param>
    /// <param name="wrongState">The service's 409 for a detail.</param>
    /// <param name="workNoun">What the work is called in messages, e.g. <c>calculation</c>.</param>
    public static RouteHandlerBuilder MapCallbackRetry<TWork>(
        this RouteGroupBuilder group,
        string endpointName,
        Func<string, ProblemHttpResult> notFound,
        Func<string, ProblemHttpResult> wrongState,
        string workNoun)
        where TWork : class
    {
        ArgumentNullException.ThrowIfNull(group);
        return group.MapPost("/{id}/callback/retry", async Task<Results<Accepted<CallbackStatus>, ProblemHttpResult>> (
                string id,
                HttpRequest request,
                IDocumentRepository<TWork> repository,
                CallbackOutbox callbacks,
                CancellationToken cancellationToken) =>
            {
                if (await repository.LoadAsync(id, cancellationToken) is null)
                {
                    return notFound(id);
                }

                var retry = await callbacks.RetryAsync(id, cancellationToken);
                var work = request.Path.Value![..^"/callback/retry".Length];
                return retry.Outcome switch
                {
                    CallbackRetryOutcome.Rearmed => TypedResults.Accepted(work, retry.Status),
                    CallbackRetryOutcome.NoCallback => wrongState($"The {workNoun} has no callbackUrl: there is no callback to retry."),
                    _ => wrongState($"The callback is {WireNames<CallbackState>.Of(retry.Status!.State)}; only a dead-lettered callback can be retried."),
                };
            })
            .WithName(endpointName)
            .WithSummary("Delivers a dead-lettered callback again.");
    }
}
