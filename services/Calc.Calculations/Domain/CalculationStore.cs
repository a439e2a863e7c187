using Calc.Contracts;
using Calc.Data;

namespace Calc.Calculations.Domain;

/// <summary>How calculations are stored: one collection, indexed by status, ordered by creation time.</summary>
internal static class CalculationStore
{
    public static readonly DocumentCollection<Calculation> Collection = new()
    {
        Name = "calculations",
        Index = c => StatusName(c.Status),
        SortKey = c => c.CreatedAt.ToUnixTimeMilliseconds(),
    };

    public static string StatusName(CalculationStatus status) => status switch
    {
        CalculationStatus.Building => "building",
        CalculationStatus.Processing => "processing",
        CalculationStatus.Done => "done",
        CalculationStatus.Failed => "failed",
        CalculationStatus.TimedOut => "timed_out",
        CalculationStatus.Cancelled => "cancelled",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };

    public static readonly IReadOnlyDictionary<string, CalculationStatus> ByName =
        Enum.GetValues<CalculationStatus>().ToDictionary(StatusName, s => s, StringComparer.Ordinal);

    /// <summary>
    /// Loads, changes and writes back a calculation, retrying when another writer got there first (optimistic
    /// concurrency), so concurrent changes are serialized and none is lost. <paramref name="change"/> returns null to
    /// leave the calculation as it is. Returns the stored result, or null when the calculation does not exist.
    /// </summary>
    public static async Task<ChangeResult?> ChangeAsync(
        this IDocumentRepository<Calculation> repository,
        string id,
        Func<Calculation, Calculation?> change,
        CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
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

            var write = await repository.UpdateAsync(id, changed, stored.Version, cancellationToken: cancellationToken);
            if (write.Succeeded)
            {
                return new ChangeResult(changed, Changed: true);
            }

            if (write.Status == WriteStatus.NotFound)
            {
                return null;
            }

            if (attempt >= 50)
            {
                throw new InvalidOperationException($"Calculation {id} kept changing under 50 attempts to update it.");
            }

            await Task.Delay(Random.Shared.Next(1, 5 + attempt), cancellationToken);
        }
    }

    internal sealed record ChangeResult(Calculation Calculation, bool Changed);
}
