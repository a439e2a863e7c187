namespace Calc.Core.Callbacks;

/// <summary>Exponential backoff with jitter, shared by callback deliveries and fetches.</summary>
public static class Backoff
{
    /// <summary>
    /// <paramref name="baseDelay"/> doubled per failure after the first, at most <paramref name="maxDelay"/>, then
    /// multiplied by a random factor in [0.5, 1): never shorter than half the nominal delay, never in lockstep.
    /// </summary>
    /// <param name="failures">Failures so far, 1 or more.</param>
    /// <param name="baseDelay">The delay after the first failure.</param>
    /// <param name="maxDelay">The longest delay.</param>
    /// <param name="random">The source of jitter.</param>
    public static TimeSpan Delay(int failures, TimeSpan baseDelay, TimeSpan maxDelay, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var exponent = Math.Clamp(failures - 1, 0, 30);
        var nominal = Math.Min(baseDelay.TotalMilliseconds * Math.Pow(2, exponent), maxDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(nominal * (0.5 + (random.NextDouble() / 2)));
    }
}
