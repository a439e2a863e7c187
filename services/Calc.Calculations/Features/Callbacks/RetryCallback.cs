using Calc.Calculations.Domain;
using Calc.Callbacks;
using Calc.Contracts;
using Calc.Data;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Calc.Calculations.Features.Callbacks;

/// <summary>
/// POST /calculations/{id}/callback/retry: re-arms a dead-lettered callback delivery for a new round of attempts
/// (202 with the delivery); 409 when the delivery is not dead-lettered or the calculation has no callback.
/// </summary>
internal static class RetryCallback
{
    public static void MapRetryCallback(this RouteGroupBuilder group) =>
        group.MapPost("/{id}/callback/retry", HandleAsync)
            .WithName("RetryCalculationCallback")
            .WithSummary("Delivers a dead-lettered callback again.");

    private static async Task<Results<Accepted<CallbackStatus>, ProblemHttpResult>> HandleAsync(
        string id,
        IDocumentRepository<Calculation> repository,
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
            CallbackRetryOutcome.Rearmed => TypedResults.Accepted($"/calculations/{id}", retry.Status),
            CallbackRetryOutcome.NoCallback => Problems.WrongState("The calculation has no callbackUrl: there is no callback to retry."),
            _ => Problems.WrongState(
                $"The callback is {WireNames<CallbackState>.Of(retry.Status!.State)}; only a dead-lettered callback can be retried."),
        };
    }
}
