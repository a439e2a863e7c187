using System.Diagnostics;

namespace Calc.Jobs;

/// <summary>The Jobs service's spans: a job's pipeline, its wait for a work slot, and each provider fetch.</summary>
internal static class JobsTelemetry
{
    public const string Name = "Calc.Jobs";

    public static readonly ActivitySource Source = new(Name);
}
