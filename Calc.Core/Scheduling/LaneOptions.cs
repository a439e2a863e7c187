using System.ComponentModel.DataAnnotations;

namespace Calc.Core.Scheduling;

/// <summary>
/// Bounds of the two work lanes (configuration section <c>Lanes</c>): CPU-bound work runs on at most as many threads
/// as the machine has cores, so it never starves the I/O work (HTTP calls, database writes) of threads; I/O work has
/// its own, larger bound because it mostly waits.
/// </summary>
public sealed class LaneOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "Lanes";

    /// <summary>CPU-bound pieces of work at once (<c>Lanes:Cpu</c>; default: the number of cores).</summary>
    [Range(1, 1024)]
    public int Cpu { get; set; } = Environment.ProcessorCount;

    /// <summary>I/O-bound operations (fetches, callback deliveries) at once (<c>Lanes:Io</c>; default 64).</summary>
    [Range(1, 100_000)]
    public int Io { get; set; } = 64;
}
