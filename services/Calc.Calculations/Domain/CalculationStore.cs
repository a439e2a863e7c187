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
}
