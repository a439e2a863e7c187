namespace Calc.Core.Scheduling;

/// <summary>Why a running task was asked to stop.</summary>
public enum StopReason
{
    /// <summary>Not asked to stop.</summary>
    None,

    /// <summary>It ran longer than its timeout.</summary>
    TimedOut,

    /// <summary>A user cancelled it.</summary>
    Cancelled,

    /// <summary>The instance is shutting down; the task is left for another instance to take up.</summary>
    Shutdown,
}
