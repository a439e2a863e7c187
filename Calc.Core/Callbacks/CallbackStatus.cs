namespace Calc.Core.Callbacks;

/// <summary>A callback delivery as the API shows it, inside the calculation or job it belongs to.</summary>
/// <param name="Url">Where the result is posted.</param>
/// <param name="State">waiting, pending, delivered or dead_lettered.</param>
/// <param name="Attempts">Attempts made in the current round (a retry by a user starts a new round).</param>
/// <param name="MaxAttempts">Attempts allowed per round.</param>
/// <param name="LastStatusCode">The receiver's HTTP status at the last attempt; null when it did not answer.</param>
/// <param name="LastError">Why the last attempt failed.</param>
/// <param name="LastAttemptAt">When the last attempt started.</param>
/// <param name="NextAttemptAt">When the next attempt is due (pending only).</param>
/// <param name="DeliveredAt">When the receiver accepted it.</param>
/// <param name="Rearmed">How many times a user re-armed it after it was dead-lettered.</param>
public sealed record CallbackStatus(
    string Url,
    CallbackState State,
    int Attempts,
    int MaxAttempts,
    int? LastStatusCode,
    string? LastError,
    DateTimeOffset? LastAttemptAt,
    DateTimeOffset? NextAttemptAt,
    DateTimeOffset? DeliveredAt,
    int Rearmed);
