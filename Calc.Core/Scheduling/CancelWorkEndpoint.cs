using Calc.Core.Callbacks;
using Calc.Data;
using FastEndpoints;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Calc.Core.Scheduling;

/// <summary>Work that a user can cancel: what <see cref="CancelWorkEndpoint{TWork, TResponse}"/> reads and writes.</summary>
/// <typeparam name="TWork">The work itself.</typeparam>
public interface ICancellableWork<out TWork>
{
    /// <summary>Whether it reached a final status (then it cannot be cancelled).</summary>
    bool IsFinal { get; }

    /// <summary>Its status as the API spells it.</summary>
    string StatusName { get; }

    /// <summary>Where its result is posted, if anywhere.</summary>
    string? CallbackUrl { get; }

    /// <summary>The work, cancelled by a user at <paramref name="now"/>.</summary>
    TWork CancelledAt(DateTimeOffset now);
}

/// <summary>
/// <c>DELETE {route}/{id}</c>, the same for every service: cancels unfinished work (200 with it). Work processing here
/// stops at once; work processing on another instance cannot store a result (its versioned write finds it cancelled).
/// The callback, if any, is armed to post the cancellation. 404 for unknown work, 409 when it is final already.
/// </summary>
/// <typeparam name="TWork">The work as stored.</typeparam>
/// <typeparam name="TResponse">The work as the API shows it.</typeparam>
public abstract class CancelWorkEndpoint<TWork, TResponse>(
    IDocumentRepository<TWork> repository,
    WorkScheduler scheduler,
    CallbackOutbox callbacks,
    TimeProvider time)
    : EndpointWithoutRequest<Results<Ok<TResponse>, ProblemHttpResult>>
    where TWork : class, ICancellableWork<TWork>
{
    /// <summary>The service's work: its route, noun and problems.</summary>
    protected abstract WorkKind Kind { get; }

    /// <summary>The work as the API shows it.</summary>
    protected abstract TResponse ToResponse(TWork work);

    /// <inheritdoc />
    public override void Configure()
    {
        Delete($"{Kind.Route}/{{id}}");
        Description(b => b.WithName($"Cancel{Kind.OperationNoun}").WithTags(Kind.Tag).WithSummary($"Cancels a {Kind.Noun} that has not finished."));
    }

    /// <inheritdoc />
    public override async Task<Results<Ok<TResponse>, ProblemHttpResult>> ExecuteAsync(CancellationToken ct)
    {
        var id = Route<string>("id")!;
        var result = await repository.ChangeAsync(id, w => w.IsFinal ? null : w.CancelledAt(time.GetUtcNow()), ct);
        if (result is null)
        {
            return Kind.NotFound(id);
        }

        if (!result.Changed)
        {
            return Kind.WrongState($"The {Kind.Noun} is already {result.Document.StatusName}; only an unfinished one can be cancelled.");
        }

        scheduler.Stop(id, StopReason.Cancelled);
        if (result.Document.CallbackUrl is not null)
        {
            await callbacks.ArmAsync(id, CancellationToken.None);
        }

        return TypedResults.Ok(ToResponse(result.Document));
    }
}
