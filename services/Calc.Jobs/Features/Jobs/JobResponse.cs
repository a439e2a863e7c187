using System.Text.Json;
using Calc.Core.Callbacks;
using Calc.Core.Scheduling;
using Calc.Jobs.Domain;

namespace Calc.Jobs.Features.Jobs;

/// <summary>A job as the API shows it.</summary>
/// <param name="Id">The job id.</param>
/// <param name="Kind">The kind of job: <c>budget</c> or <c>fetch</c>.</param>
/// <param name="Status">queued, processing, done, failed, timed_out or cancelled.</param>
/// <param name="Priority">normal or high.</param>
/// <param name="Attempts">How many times a worker started it (more than 1 after a worker stopped mid-job).</param>
/// <param name="Worker">The instance that processes or processed it.</param>
/// <param name="Error">Why it failed, timed out or was cancelled.</param>
/// <param name="TimeoutSeconds">How long processing may take, counted from the first start.</param>
/// <param name="CreatedAt">When it was accepted.</param>
/// <param name="StartedAt">When a worker first started it.</param>
/// <param name="FinishedAt">When it reached a final status.</param>
/// <param name="ExpiresAt">When the job and its result stop existing (then 404).</param>
/// <param name="Budget">A budget job's input and, once done, its distribution.</param>
/// <param name="Fetch">A fetch job's provider and, once done, its data.</param>
/// <param name="RequestId">The id of the request that created the job (in its log lines and its callback).</param>
/// <param name="CallbackUrl">Where the result is posted once final.</param>
/// <param name="Callback">The callback's delivery: state, attempts, last answer, next attempt (single reads only).</param>
public sealed record JobResponse(
    string Id,
    string Kind,
    JobStatus Status,
    WorkPriority Priority,
    int Attempts,
    string? Worker,
    string? Error,
    int TimeoutSeconds,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    DateTimeOffset ExpiresAt,
    BudgetDetails? Budget,
    FetchDetails? Fetch = null,
    string? RequestId = null,
    string? CallbackUrl = null,
    CallbackStatus? Callback = null);

/// <summary>A budget job's input and result.</summary>
/// <param name="DaysOnline">Days the job stays online.</param>
/// <param name="Budget">The budget, with two decimals.</param>
/// <param name="Distribution">Per day (day 1 is the creation date, UTC): the amount, exact to the cent; null until done.</param>
public sealed record BudgetDetails(int DaysOnline, decimal Budget, IReadOnlyList<BudgetDay>? Distribution);

/// <summary>One day's share of a budget.</summary>
/// <param name="Day">1 for the first day.</param>
/// <param name="Date">The calendar day (UTC) counted from the creation date.</param>
/// <param name="Amount">The amount, with two decimals.</param>
public sealed record BudgetDay(int Day, DateOnly Date, decimal Amount);

/// <summary>A fetch job's provider and result.</summary>
/// <param name="Provider">The provider's name.</param>
/// <param name="ProviderCalls">Calls made to the provider (failed ones included).</param>
/// <param name="Data">What the provider answered (JSON; other text as a JSON string); null until done.</param>
public sealed record FetchDetails(string Provider, int ProviderCalls, JsonElement? Data);

/// <summary>A page of jobs, newest first.</summary>
/// <param name="Items">The jobs on this page.</param>
/// <param name="Page">The page number, from 1.</param>
/// <param name="PageSize">Jobs per page.</param>
/// <param name="Total">Jobs matching the filter.</param>
public sealed record JobPage(IReadOnlyList<JobResponse> Items, int Page, int PageSize, long Total);

internal static class JobResponses
{
    public static JobResponse ToResponse(this Job job, bool includeResult = true, CallbackStatus? callback = null)
    {
        IReadOnlyList<BudgetDay>? distribution = null;
        if (includeResult && job.DailyCents is { } cents)
        {
            var first = DateOnly.FromDateTime(job.CreatedAt.UtcDateTime);
            distribution = [.. cents.Select((c, i) => new BudgetDay(i + 1, first.AddDays(i), BudgetDistribution.FromCents(c)))];
        }

        return new JobResponse(
            job.Id,
            job.Kind,
            job.Status,
            job.Priority,
            job.Attempts,
            job.Worker,
            job.Error,
            job.TimeoutSeconds,
            job.CreatedAt,
            job.StartedAt,
            job.FinishedAt,
            job.ExpiresAt,
            job.Budget is { } budget ? new BudgetDetails(budget.DaysOnline, BudgetDistribution.FromCents(budget.BudgetCents), distribution) : null,
            job.Provider is { } provider ? new FetchDetails(provider, job.FetchAttempts, includeResult ? job.Data : null) : null,
            job.RequestId,
            job.CallbackUrl,
            callback);
    }
}
