using System.Numerics;

namespace Calc.Numerics.Tests;

public sealed class BigMathTests
{
    [Fact]
    public void The_engine_is_described_and_the_switch_forces_managed()
    {
        BigMath.EngineDescription.ShouldBe(BigMath.GmpAvailable ? BigIntegerEngine.Gmp!.Name : "managed");
        BigMath.SelectEngine("1").ShouldBeSameAs(BigIntegerEngine.Managed);
        BigMath.SelectEngine(null).ShouldBeSameAs(BigIntegerEngine.Gmp ?? BigIntegerEngine.Managed);
    }

    [Fact]
    public void Gmp_reports_its_version()
    {
        var gmp = Engines.Get(Engines.Gmp);

        gmp.Name.ShouldMatch(@"^gmp \d+\.\d+(\.\d+)?$");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(10)]
    [InlineData(21)]
    [InlineData(1000)]
    [InlineData(65_536)]
    public void Factorial_size_estimate_is_a_tight_upper_bound(int n)
    {
        var bits = BigMath.Factorial(n, TestContext.Current.CancellationToken).GetBitLength();

        var estimate = BigMath.EstimateFactorialBits(n);

        estimate.ShouldBeGreaterThanOrEqualTo(bits);
        estimate.ShouldBeLessThanOrEqualTo(bits + 3);
    }

    [Fact]
    public void Factorial_size_estimate_covers_int_max()
    {
        // ~ 6.4e10 bits: enough to refuse before computing.
        BigMath.EstimateFactorialBits(int.MaxValue).ShouldBeGreaterThan(60_000_000_000L);
    }

    [Fact]
    public void Facade_computes_with_the_selected_engine()
    {
        var ct = TestContext.Current.CancellationToken;

        BigMath.Factorial(25, ct).ShouldBe(BigInteger.Parse("15511210043330985984000000", System.Globalization.CultureInfo.InvariantCulture));
        BigMath.FactorialToDecimalString(10, ct).ShouldBe("3628800");
        BigMath.Pow(-2, 5, ct).ShouldBe(new BigInteger(-32));
        BigMath.ToDecimalString(BigInteger.Pow(10, 2000), ct).Length.ShouldBe(2001);
    }
}
