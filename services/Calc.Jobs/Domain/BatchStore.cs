using Calc.Data;

namespace Calc.Jobs.Domain;

/// <summary>How batches are stored: one collection, ordered by creation time.</summary>
internal static class BatchStore
{
    public static readonly DocumentCollection<Batch> Collection = new()
    {
        Name = "job_batches",
        SortKey = b => b.CreatedAt.ToUnixTimeMilliseconds(),
    };
}
