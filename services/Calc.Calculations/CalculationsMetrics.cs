using System.Diagnostics.Metrics;
using Calc.Calculations.Contracts;
using Calc.Calculations.Domain;
using Calc.Core.Contracts;
using Calc.Core.Scheduling;

namespace Calc.Calculations;

/// <summary>
/// The Calculations service's own metrics (meter <c>Calc.Calculations</c>): finalizations admitted onto a slot or
/// refused with 503, and calculations that processing ended, by status. Nothing else counts these, so they are plain
/// counters; adding to one with nobody listening costs a field read.
/// </summary>
internal sealed class CalculationsMetrics
{
    private static readonly KeyValuePair<string, object?> Admitted = new("calc.outcome", "admitted");
    private static readonly KeyValuePair<string, object?> Refused = new("calc.outcome", "refused");

    private readonly Counter<long> _admissions;
    private readonly Counter<long> _finished;

    public CalculationsMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(CalculationsTelemetry.Name);
        _admissions = meter.CreateCounter<long>(
            "calc.calculation.admissions", "{calculation}", "Finalizations of a building calculation: admitted onto a work slot, or refused with 503 (no slot free for its priority).");
        _finished = meter.CreateCounter<long>(
            "calc.calculation.finished", "{calculation}", "Calculations whose processing on this instance ended, by status (done, failed, timed_out, cancelled).");
    }

    /// <summary>A finalization took a slot (<paramref name="admitted"/>) or was refused with 503.</summary>
    public void Admission(bool admitted, WorkPriority priority) =>
        _admissions.Add(1, admitted ? Admitted : Refused, new("calc.priority", priority == WorkPriority.High ? "high" : "normal"));

    /// <summary>Processing ended with <paramref name="status"/>.</summary>
    public void Finished(CalculationStatus status) =>
        _finished.Add(1, new KeyValuePair<string, object?>("calc.calculation.status", WireNames<CalculationStatus>.Of(status)));
}
