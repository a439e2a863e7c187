using Calc.Callbacks;
using Calc.Contracts;
using Calc.Data;
using Calc.Jobs.Domain;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Calc.Jobs.Features.Callbacks;

/// <summary>
/// POST /jobs/{id}/callback/retry: re-arms a dead-lettered callback delivery for a new round of attempts (202 with the
/// delivery); 409 when the delivery is not dead-lettered or the job has no callback.
/// </summary>
internal static class RetryCallback
{
    public static void MapRetryCallback(this RouteGroupBuilder group) =>
        group.MapPost("/{id}/callback/retry", HandleAsync)
            .WithName("RetryJobCallback")
            .WithSummary("Delivers a dead-lettered callback again.");

    private static async Task<Results<Accepted<CallbackStatus>, ProblemHttpResult>> HandleAsync(
        string id,
        IDocumentRepository<Job> repository,
        CallbackOutbox callbacks,
        CancellationToken cancellationToken)
    {
        if (await repository.LoadAsync(id, cancellationToken) is null)
        {
            return Problems.NotFound(id);
        }

        var retry = await callbacks.RetryAsync(id, cancellationToken);
        return retry.Outcome switch
        {
            CallbackRetryOutcome.Rearmed => TypedResults.Accepted($"/jobs/{id}", retry.Status),
            CallbackRetryOutcome.NoCallback => Problems.WrongState("The job has no callbackUrl: there is no callback to retry."),
            _ => Problems.WrongState($"The callback is {WireNames<CallbackState>.Of(retry.Status!.State)}; only a dead-lettered callback can be retried."),
        };
    }
}
