using System.Numerics;

namespace Calc.Numerics.Tests;

public sealed class PowTests
{
    [Theory]
    [MemberData(nameof(Engines.All), MemberType = typeof(Engines))]
    public void Pow_equals_BigInteger_Pow(string engineName)
    {
        var engine = Engines.Get(engineName);
        var ct = TestContext.Current.CancellationToken;
        BigInteger[] bases = [0, 1, -1, 2, -2, 3, -3, 10, 12, 1024, -6, BigInteger.Parse("123456789012345678901234567890", System.Globalization.CultureInfo.InvariantCulture)];
        foreach (var value in bases)
        {
            foreach (var exponent in new[] { 0, 1, 2, 3, 7, 64, 65, 1000, 4097 })
            {
                engine.Pow(value, exponent, ct, null).ShouldBe(BigInteger.Pow(value, exponent), $"{value}^{exponent}");
            }
        }
    }

    [Fact]
    public void Both_engines_agree_on_a_large_power()
    {
        var gmp = Engines.Get(Engines.Gmp);
        var ct = TestContext.Current.CancellationToken;

        gmp.Pow(-12345, 100_001, ct, null).ShouldBe(BigIntegerEngine.Managed.Pow(-12345, 100_001, ct, null));
    }

    [Fact]
    public void Negative_exponent_is_rejected()
    {
        Should.Throw<ArgumentOutOfRangeException>(() => BigMath.Pow(2, -1, TestContext.Current.CancellationToken));
    }

    [Fact]
    public void Power_size_estimate_bounds_the_result()
    {
        var ct = TestContext.Current.CancellationToken;
        foreach (var (value, exponent) in new (BigInteger, int)[] { (3, 1000), (-7, 12_345), (1023, 77), (1 << 20, 5), (2, 1) })
        {
            var bits = BigMath.Pow(value, exponent, ct).GetBitLength();
            var estimate = BigMath.EstimatePowerBits(value, exponent);
            estimate.ShouldBeGreaterThanOrEqualTo(bits);
            estimate.ShouldBeLessThanOrEqualTo(bits + 3);
        }

        BigMath.EstimatePowerBits(10, BigInteger.Pow(10, 30)).ShouldBe(long.MaxValue);
        BigMath.EstimatePowerBits(1, BigInteger.Pow(10, 30)).ShouldBe(1);
    }
}
