using Calc.Core.Contracts;
using Calc.Data;

namespace Calc.Jobs.Domain;

/// <summary>How jobs are stored: one collection, indexed by status, ordered by creation time, each with an expiry.</summary>
internal static class JobStore
{
    public static readonly DocumentCollection<Job> Collection = new()
    {
        Name = "jobs",
        Index = j => WireNames<JobStatus>.Of(j.Status),
        SortKey = j => j.CreatedAt.ToUnixTimeMilliseconds(),
    };
}
