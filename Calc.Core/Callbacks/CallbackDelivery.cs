using Calc.Core.Contracts;
using Calc.Data;

namespace Calc.Core.Callbacks;

/// <summary>
/// The stored record of one callback (the outbox): where to post, for which work (the id is the work's id), and every
/// fact about the attempts. It lives in the service's own document store, so it survives restarts on every provider.
/// While an attempt runs, <see cref="NextAttemptAt"/> is pushed past the attempt's end: that is the claim's lease; a
/// process that dies mid-attempt leaves it due again once the lease has run out.
/// </summary>
internal sealed record CallbackDelivery
{
    public required string WorkId { get; init; }
    public required string Url { get; init; }
    public string? RequestId { get; init; }

    /// <summary>The W3C traceparent of the work that registered or armed it: each attempt's span continues that trace.</summary>
    public string? TraceParent { get; init; }
    public CallbackState State { get; init; } = CallbackState.Waiting;
    public int Attempts { get; init; }
    public int Rearmed { get; init; }
    public int? LastStatusCode { get; init; }
    public string? LastError { get; init; }
    public DateTimeOffset? LastAttemptAt { get; init; }
    public required DateTimeOffset NextAttemptAt { get; init; }
    public DateTimeOffset? DeliveredAt { get; init; }
    public string? Owner { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }

    public CallbackStatus ToStatus(int maxAttempts) => new(
        Url,
        State,
        Attempts,
        maxAttempts,
        LastStatusCode,
        LastError,
        LastAttemptAt,
        State is CallbackState.Pending ? NextAttemptAt : null,
        DeliveredAt,
        Rearmed);
}

/// <summary>How deliveries are stored: indexed by state, ordered by when they are due, so the due ones come first.</summary>
internal static class CallbackStore
{
    public static readonly DocumentCollection<CallbackDelivery> Collection = new()
    {
        Name = "callbacks",
        Index = d => WireNames<CallbackState>.Of(d.State),
        SortKey = d => d.NextAttemptAt.ToUnixTimeMilliseconds(),
    };
}
