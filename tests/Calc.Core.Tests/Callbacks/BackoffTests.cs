using Calc.Core.Callbacks;

namespace Calc.Core.Tests.Callbacks;

public sealed class BackoffTests
{
    private static readonly TimeSpan Base = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Max = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 4)]
    [InlineData(5, 16)]
    [InlineData(6, 30)]
    [InlineData(40, 30)]
    public void The_delay_doubles_per_failure_up_to_the_maximum_and_is_jittered_between_half_and_all_of_it(int failures, int nominalSeconds)
    {
        var random = new Random(12345);
        var delays = Enumerable.Range(0, 500).Select(_ => Backoff.Delay(failures, Base, Max, random).TotalSeconds).ToList();

        delays.ShouldAllBe(d => d >= nominalSeconds * 0.5 && d < nominalSeconds);
        // Jitter: the delays spread over the range instead of all being the same.
        (delays.Max() - delays.Min()).ShouldBeGreaterThan(nominalSeconds * 0.4);
    }
}
