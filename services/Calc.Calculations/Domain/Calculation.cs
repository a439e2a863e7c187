using Calc.Calculations.Contracts;
using Calc.Core.Callbacks;
using Calc.Core.Contracts;
using Calc.Core.Scheduling;

namespace Calc.Calculations.Domain;

/// <summary>
/// The stored calculation. Numbers are kept as exact decimal text ("-7/2" for a fraction). While processing, the
/// instance running it holds a lease (owner + expiry) that it renews; an expired lease means that instance stopped.
/// </summary>
internal sealed record Calculation : ICancellableWork<Calculation>
{
    public required string Id { get; init; }
    public required CalculationType Type { get; init; }
    public CalculationStatus Status { get; init; } = CalculationStatus.Building;
    public WorkPriority Priority { get; init; } = WorkPriority.Normal;
    public required string Init { get; init; }
    public IReadOnlyList<string> Terms { get; init; } = [];

    /// <summary>
    /// The <c>Idempotency-Key</c> of each term added with one, and which term it added: a PUT repeating a key adds
    /// nothing. Written with <see cref="Terms"/> in one versioned write, so a key is recorded exactly when its term
    /// is; at most one entry per term, so bounded by <c>Calculations:MaxTerms</c>.
    /// </summary>
    public IReadOnlyList<AppliedTermKey> TermKeys { get; init; } = [];
    public required int TimeoutSeconds { get; init; }
    public string? CallbackUrl { get; init; }
    public string? RequestId { get; init; }

    /// <summary>The id of the <c>Idempotency-Key</c> that made it, if any: a replay answers it only when this matches.</summary>
    public string? IdempotencyKey { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    public string? Result { get; init; }
    public int? ResultDigits { get; init; }
    public string? Error { get; init; }
    public int Progress { get; init; }
    public int Attempts { get; init; }
    public string? LeaseOwner { get; init; }
    public DateTimeOffset? LeaseExpiresAt { get; init; }

    public bool IsFinal => Status is CalculationStatus.Done or CalculationStatus.Failed or CalculationStatus.TimedOut or CalculationStatus.Cancelled;

    /// <summary>When processing must end: the timeout counts from the first start, across instances.</summary>
    public DateTimeOffset? Deadline => StartedAt?.AddSeconds(TimeoutSeconds);

    string ICancellableWork<Calculation>.StatusName => WireNames<CalculationStatus>.Of(Status);

    Calculation ICancellableWork<Calculation>.CancelledAt(DateTimeOffset now) => Finish(CalculationStatus.Cancelled, now, "Cancelled by a user.");

    public Calculation Finish(CalculationStatus status, DateTimeOffset now, string? error = null) => this with
    {
        Status = status,
        Error = error,
        FinishedAt = now,
        LeaseOwner = null,
        LeaseExpiresAt = null,
    };

    public CalculationResponse ToResponse(int? liveProgress = null, bool includeLongResult = true, CallbackStatus? callback = null) => new(
        Id,
        Type,
        Status,
        Priority,
        includeLongResult || Result is null || Result.Length <= 1000 ? Result : null,
        ResultDigits,
        Error,
        Status == CalculationStatus.Processing ? liveProgress ?? Progress : null,
        Terms.Count,
        TimeoutSeconds,
        CreatedAt,
        StartedAt,
        FinishedAt,
        CallbackUrl,
        callback,
        RequestId);
}

/// <summary>A term's <c>Idempotency-Key</c> and the position in <see cref="Calculation.Terms"/> of the term it added.</summary>
internal sealed record AppliedTermKey(string Key, int Term);
