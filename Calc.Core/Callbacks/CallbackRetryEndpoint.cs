using Calc.Core.Contracts;
using Calc.Core.Scheduling;
using Calc.Data;
using FastEndpoints;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Calc.Core.Callbacks;

/// <summary>
/// <c>POST {route}/{id}/callback/retry</c>, the same for every service whose work takes a <c>callbackUrl</c>: re-arms a
/// dead-lettered delivery for a new round of attempts (202 with the delivery); 404 for unknown work (the service's own
/// problem), 409 when the delivery is not dead-lettered or the work has no callback. A service maps it by deriving a
/// sealed class that names its <see cref="WorkKind"/>.
/// </summary>
/// <typeparam name="TWork">The work as stored.</typeparam>
public abstract class CallbackRetryEndpoint<TWork>(IDocumentRepository<TWork> repository, CallbackOutbox callbacks)
    : EndpointWithoutRequest<Results<Accepted<CallbackStatus>, ProblemHttpResult>>
    where TWork : class
{
    /// <summary>The service's work: its route, noun and problems.</summary>
    protected abstract WorkKind Kind { get; }

    /// <inheritdoc />
    public override void Configure()
    {
        Post($"{Kind.Route}/{{id}}/callback/retry");
        Description(b => b.WithName($"Retry{Kind.OperationNoun}Callback").WithTags(Kind.Tag).WithSummary("Delivers a dead-lettered callback again."));
    }

    /// <inheritdoc />
    public override async Task<Results<Accepted<CallbackStatus>, ProblemHttpResult>> ExecuteAsync(CancellationToken ct)
    {
        var id = Route<string>("id")!;
        if (await repository.LoadAsync(id, ct) is null)
        {
            return Kind.NotFound(id);
        }

        var retry = await callbacks.RetryAsync(id, ct);
        var work = HttpContext.Request.Path.Value![..^"/callback/retry".Length];
        return retry.Outcome switch
        {
            CallbackRetryOutcome.Rearmed => TypedResults.Accepted(work, retry.Status),
            CallbackRetryOutcome.NoCallback => Kind.WrongState($"The {Kind.Noun} has no callbackUrl: there is no callback to retry."),
            _ => Kind.WrongState($"The callback is {WireNames<CallbackState>.Of(retry.Status!.State)}; only a dead-lettered callback can be retried."),
        };
    }
}
