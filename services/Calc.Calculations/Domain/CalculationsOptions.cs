using System.ComponentModel.DataAnnotations;

namespace Calc.Calculations.Domain;

/// <summary>Limits and timings of the Calculations service (configuration section <c>Calculations</c>).</summary>
internal sealed class CalculationsOptions
{
    public const string SectionName = "Calculations";

    /// <summary>Timeout of a calculation that does not give one.</summary>
    [Range(1, 86_400)]
    public int DefaultTimeoutSeconds { get; set; } = 60;

    /// <summary>Largest timeout a client may ask for.</summary>
    [Range(1, 86_400)]
    public int MaxTimeoutSeconds { get; set; } = 3600;

    /// <summary>Terms one calculation may hold.</summary>
    [Range(1, 1_000_000)]
    public int MaxTerms { get; set; } = 1000;

    /// <summary>Digits an initial value or term may have.</summary>
    [Range(1, 10_000_000)]
    public int MaxInputDigits { get; set; } = 10_000;

    /// <summary>Largest n for a factorial.</summary>
    [Range(0, 100_000_000)]
    public int MaxFactorialN { get; set; } = 2_000_000;

    /// <summary>Largest page a list may return (<c>pageSize</c>).</summary>
    [Range(1, 1000)] // the document repository returns at most 1,000 per query
    public int MaxPageSize { get; set; } = 100;

    /// <summary>Largest page number a list may ask for (<c>page</c>): bounds how deep an offset a query may skip.</summary>
    [Range(1, 10_000_000)]
    public int MaxPage { get; set; } = 1_000_000;

    /// <summary>
    /// Largest result, in bits, a power may produce: a term that would pass it is refused when it is added (estimated
    /// from the operands' sizes), and each step is checked again before it is computed.
    /// </summary>
    [Range(64, long.MaxValue)]
    public long MaxResultBits { get; set; } = 64_000_000;

    /// <summary>How long an instance holds a calculation it processes without renewing its lease.</summary>
    [Range(3, 3600)]
    public int LeaseSeconds { get; set; } = 30;

    /// <summary>How often an instance looks for calculations whose instance stopped (expired leases).</summary>
    [Range(1, 3600)]
    public int RecoveryIntervalSeconds { get; set; } = 10;

    /// <summary>How many times processing may be started for one calculation before it is failed as abandoned.</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 3;

    /// <summary>
    /// How many of the calculations this instance wrote last it keeps a copy of, for their next term or finalize to
    /// start from instead of a load (0: none; see <see cref="RecentCopies"/>).
    /// </summary>
    [Range(0, 1_000_000)]
    public int RecentCopies { get; set; } = 1024;

    /// <summary>
    /// Digits (the initial value and every term together) a calculation may have for its copy to be kept: bounds the
    /// copies' memory to about <see cref="RecentCopies"/> times this.
    /// </summary>
    [Range(1, 10_000_000)]
    public int RecentCopyMaxDigits { get; set; } = 10_000;

    public TimeSpan Lease => TimeSpan.FromSeconds(LeaseSeconds);
}
