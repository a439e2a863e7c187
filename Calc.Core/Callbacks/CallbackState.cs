namespace Calc.Core.Callbacks;

/// <summary>Where a callback delivery is in its life.</summary>
public enum CallbackState
{
    /// <summary>The work has not reached a final state yet.</summary>
    Waiting,
    /// <summary>Due (or due again after a failed attempt, at <c>nextAttemptAt</c>), or being attempted.</summary>
    Pending,
    /// <summary>The receiver answered 2xx.</summary>
    Delivered,
    /// <summary>Every attempt failed (<c>Callbacks:MaxAttempts</c>); a user may re-arm it (<c>POST …/callback/retry</c>).</summary>
    DeadLettered,
}
