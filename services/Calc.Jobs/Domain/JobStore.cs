using Calc.Data;

namespace Calc.Jobs.Domain;

/// <summary>How jobs are stored: one collection, indexed by status, ordered by creation time, each with an expiry.</summary>
internal static class JobStore
{
    public static readonly DocumentCollection<Job> Collection = new()
    {
        Name = "jobs",
        Index = j => StatusName(j.Status),
        SortKey = j => j.CreatedAt.ToUnixTimeMilliseconds(),
    };

    public static string StatusName(JobStatus status) => status switch
    {
        JobStatus.Queued => "queued",
        JobStatus.Processing => "processing",
        JobStatus.Done => "done",
        JobStatus.Failed => "failed",
        JobStatus.TimedOut => "timed_out",
        JobStatus.Cancelled => "cancelled",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };

    public static readonly IReadOnlyDictionary<string, JobStatus> ByName =
        Enum.GetValues<JobStatus>().ToDictionary(StatusName, s => s, StringComparer.Ordinal);
}
