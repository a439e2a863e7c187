using Calc.Core.Contracts;
using Calc.Core.Scheduling;

namespace Calc.Jobs.Domain;

/// <summary>
/// A stored job. It expires (with its result) at <see cref="ExpiresAt"/>: the document store drops it then, so every
/// write must carry the expiry again. <see cref="Attempts"/> counts starts; only the worker holding the latest attempt
/// may record the outcome, so a result is stored once even when a message is delivered twice.
/// </summary>
internal sealed record Job : ICancellableWork<Job>
{
    public const string BudgetKind = "budget";
    public const string FetchKind = "fetch";

    public required string Id { get; init; }
    public string Kind { get; init; } = BudgetKind;
    public JobStatus Status { get; init; } = JobStatus.Queued;
    public WorkPriority Priority { get; init; } = WorkPriority.Normal;
    public required int TimeoutSeconds { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset ExpiresAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    public int Attempts { get; init; }
    public string? Worker { get; init; }
    public string? Error { get; init; }
    public BudgetInput? Budget { get; init; }
    public IReadOnlyList<long>? DailyCents { get; init; }
    public string? BatchId { get; init; }

    /// <summary>A fetch job's provider (a name from <c>Jobs:Providers</c>).</summary>
    public string? Provider { get; init; }

    /// <summary>What a fetch job got from its provider (JSON; text that is not JSON is kept as a JSON string).</summary>
    public System.Text.Json.JsonElement? Data { get; init; }

    /// <summary>Provider calls a fetch job made (failed ones included).</summary>
    public int FetchAttempts { get; init; }

    public string? CallbackUrl { get; init; }

    /// <summary>The id of the request that created the job: it travels with the queue message, its logs and its callback.</summary>
    public string? RequestId { get; init; }

    /// <summary>The id of the <c>Idempotency-Key</c> that made it, if any: a replay answers it only when this matches.</summary>
    public string? IdempotencyKey { get; init; }

    public bool IsFinal => Status is JobStatus.Done or JobStatus.Failed or JobStatus.TimedOut or JobStatus.Cancelled;

    /// <summary>When processing must end: the timeout counts from the first start, across workers.</summary>
    public DateTimeOffset? Deadline => StartedAt?.AddSeconds(TimeoutSeconds);

    string ICancellableWork<Job>.StatusName => WireNames<JobStatus>.Of(Status);

    Job ICancellableWork<Job>.CancelledAt(DateTimeOffset now) => Finish(JobStatus.Cancelled, now, "Cancelled by a user.");

    public Job Finish(JobStatus status, DateTimeOffset now, string? error = null) => this with
    {
        Status = status,
        Error = error,
        FinishedAt = now,
    };
}

/// <summary>What a budget job distributes: an amount in cents over a number of days.</summary>
internal sealed record BudgetInput(int DaysOnline, long BudgetCents);
