using Calc.Jobs.Domain;
using Calc.Scheduling;

namespace Calc.Jobs.Features.Jobs;

/// <summary>A job as the API shows it.</summary>
/// <param name="Id">The job id.</param>
/// <param name="Kind">The kind of job: <c>budget</c>.</param>
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
/// <param name="Budget">The budget job's input and, once done, its distribution.</param>
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
    BudgetDetails Budget);

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

/// <summary>A page of jobs, newest first.</summary>
/// <param name="Items">The jobs on this page.</param>
/// <param name="Page">The page number, from 1.</param>
/// <param name="PageSize">Jobs per page.</param>
/// <param name="Total">Jobs matching the filter.</param>
public sealed record JobPage(IReadOnlyList<JobResponse> Items, int Page, int PageSize, long Total);

internal static class JobResponses
{
    public static JobResponse ToResponse(this Job job, bool includeDistribution = true)
    {
        IReadOnlyList<BudgetDay>? distribution = null;
        if (includeDistribution && job.DailyCents is { } cents)
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
            new BudgetDetails(job.Budget.DaysOnline, BudgetDistribution.FromCents(job.Budget.BudgetCents), distribution));
    }
}
