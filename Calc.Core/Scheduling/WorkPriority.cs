namespace Calc.Core.Scheduling;

/// <summary>How urgent a task is. High-priority tasks may use the slots kept in reserve.</summary>
public enum WorkPriority
{
    /// <summary>Admitted only while a non-reserved slot is free.</summary>
    Normal,

    /// <summary>Admitted while any slot is free, reserved ones included.</summary>
    High,
}
