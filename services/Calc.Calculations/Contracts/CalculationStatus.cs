namespace Calc.Calculations.Contracts;

/// <summary>Where a calculation is in its life: building → processing → done | failed | timed_out | cancelled.</summary>
public enum CalculationStatus
{
    /// <summary>Created; terms may be added; not yet finalized.</summary>
    Building,

    /// <summary>Finalized and being computed (or waiting to be taken up again after its instance stopped).</summary>
    Processing,

    /// <summary>Computed; the result is available.</summary>
    Done,

    /// <summary>Could not be computed (division by zero, result too large, ...); the error says why.</summary>
    Failed,

    /// <summary>Ran longer than its timeout and was stopped.</summary>
    TimedOut,

    /// <summary>Cancelled by a user.</summary>
    Cancelled,
}
