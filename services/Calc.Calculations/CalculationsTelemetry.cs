using System.Diagnostics;

namespace Calc.Calculations;

/// <summary>The Calculations service's spans: a calculation's processing, and each renewal of its lease.</summary>
internal static class CalculationsTelemetry
{
    public const string Name = "Calc.Calculations";

    public static readonly ActivitySource Source = new(Name);
}
