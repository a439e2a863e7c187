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

    /// <summary>
    /// Loads, changes and writes back a job, retrying when another writer got there first (optimistic concurrency).
    /// <paramref name="change"/> returns null to leave the job as it is. The expiry is kept. Returns the stored result,
    /// or null when the job does not exist (or has expired).
    /// </summary>
    public static async Task<ChangeResult?> ChangeAsync(
        this IDocumentRepository<Job> repository,
        string id,
        Func<Job, Job?> change,
        CancellationToken cancellationToken)
    {
        const int attempts = 50;
        for (var attempt = 0; attempt < attempts; attempt++)
        {
            var stored = await repository.LoadAsync(id, cancellationToken);
            if (stored is null)
            {
                return null;
            }

            var changed = change(stored.Document);
            if (changed is null)
            {
                return new ChangeResult(stored.Document, Changed: false);
            }

            var write = await repository.UpdateAsync(id, changed, stored.Version, changed.ExpiresAt, cancellationToken);
            if (write.Succeeded)
            {
                return new ChangeResult(changed, Changed: true);
            }

            if (write.Status == WriteStatus.NotFound)
            {
                return null;
            }

            await Task.Delay(Random.Shared.Next(1, 5 + attempt), cancellationToken);
        }

        throw new InvalidOperationException($"Job {id} kept changing under {attempts} attempts to update it.");
    }

    internal sealed record ChangeResult(Job Job, bool Changed);
}
