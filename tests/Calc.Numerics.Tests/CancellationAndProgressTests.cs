using System.Diagnostics;

namespace Calc.Numerics.Tests;

public sealed class CancellationAndProgressTests
{
    [Theory]
    [InlineData(Engines.Managed, 2_000_000)]
    [InlineData(Engines.Gmp, 20_000_000)]
    public void Cancelling_a_long_factorial_stops_it_soon(string engineName, int n)
    {
        var engine = Engines.Get(engineName);
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cancellation.CancelAfter(TimeSpan.FromMilliseconds(50));
        var clock = Stopwatch.StartNew();

        Should.Throw<OperationCanceledException>(() => engine.FactorialToDecimalString(n, cancellation.Token, null));

        // Uncancelled, these take many seconds; only the multiplication in progress runs on.
        clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(3));
    }

    [Theory]
    [MemberData(nameof(Engines.All), MemberType = typeof(Engines))]
    public void Cancelling_a_long_power_stops_it_soon(string engineName)
    {
        var engine = Engines.Get(engineName);
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cancellation.CancelAfter(TimeSpan.FromMilliseconds(50));
        var clock = Stopwatch.StartNew();

        Should.Throw<OperationCanceledException>(() => engine.Pow(3, engineName == Engines.Gmp ? 400_000_000 : 20_000_000, cancellation.Token, null));

        clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(3));
    }

    [Fact]
    public void An_already_cancelled_token_throws_before_any_work()
    {
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();

        Should.Throw<OperationCanceledException>(() => BigMath.Factorial(10, cancellation.Token));
        Should.Throw<OperationCanceledException>(() => BigMath.ToDecimalString(1, cancellation.Token));
    }

    [Theory]
    [MemberData(nameof(Engines.All), MemberType = typeof(Engines))]
    public void Factorial_progress_is_monotonic_and_ends_at_100(string engineName)
    {
        var engine = Engines.Get(engineName);
        var ct = TestContext.Current.CancellationToken;

        var factorial = new RecordingProgress();
        engine.Factorial(60_000, ct, factorial);
        var text = new RecordingProgress();
        engine.FactorialToDecimalString(60_000, ct, text);
        var small = new RecordingProgress();
        engine.Factorial(5, ct, small);

        factorial.ShouldBeMonotonicAndEndAt100();
        factorial.Values.Count.ShouldBeGreaterThan(10, "progress should advance in steps, not jump to 100");
        text.ShouldBeMonotonicAndEndAt100();
        // With GMP the decimal conversion is one native call: progress advances during the factorial, then jumps.
        text.Values.Count.ShouldBeGreaterThan(4);
        small.ShouldBeMonotonicAndEndAt100();
    }

    [Theory]
    [MemberData(nameof(Engines.All), MemberType = typeof(Engines))]
    public void Pow_progress_is_monotonic_and_ends_at_100(string engineName)
    {
        var engine = Engines.Get(engineName);
        var progress = new RecordingProgress();

        engine.Pow(7, 300_000, TestContext.Current.CancellationToken, progress);

        progress.ShouldBeMonotonicAndEndAt100();
        progress.Values.Count.ShouldBeGreaterThan(5);
    }
}
