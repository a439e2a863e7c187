namespace Calc.Jobs.Domain;

/// <summary>Where a job is in its life: queued → processing → done | failed | timed_out | cancelled.</summary>
public enum JobStatus
{
    /// <summary>Stored and published; waiting for a worker.</summary>
    Queued,

    /// <summary>A worker is computing it.</summary>
    Processing,

    /// <summary>Finished; the result is stored.</summary>
    Done,

    /// <summary>Gave up (the error says why).</summary>
    Failed,

    /// <summary>Ran longer than its timeout and was stopped.</summary>
    TimedOut,

    /// <summary>Cancelled by a user before it finished.</summary>
    Cancelled,
}
