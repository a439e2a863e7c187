using Calc.Calculations.Contracts;
using Calc.Core.Contracts;
using Calc.Data;

namespace Calc.Calculations.Domain;

/// <summary>How calculations are stored: one collection, indexed by status, ordered by creation time.</summary>
internal static class CalculationStore
{
    public static readonly DocumentCollection<Calculation> Collection = new()
    {
        Name = "calculations",
        Index = c => WireNames<CalculationStatus>.Of(c.Status),
        SortKey = c => c.CreatedAt.ToUnixTimeMilliseconds(),
    };
}
