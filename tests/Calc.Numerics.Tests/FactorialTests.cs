using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;

namespace Calc.Numerics.Tests;

public sealed class FactorialTests
{
    [Theory]
    [MemberData(nameof(Engines.All), MemberType = typeof(Engines))]
    public void Small_factorials_are_exact(string engineName)
    {
        var engine = Engines.Get(engineName);
        var ct = TestContext.Current.CancellationToken;

        engine.Factorial(0, ct, null).ShouldBe(BigInteger.One);
        engine.Factorial(1, ct, null).ShouldBe(BigInteger.One);
        engine.Factorial(2, ct, null).ShouldBe(new BigInteger(2));
        engine.Factorial(20, ct, null).ShouldBe(new BigInteger(2432902008176640000));
        engine.Factorial(25, ct, null).ShouldBe(BigInteger.Parse("15511210043330985984000000", CultureInfo.InvariantCulture));
        engine.FactorialToDecimalString(25, ct, null).ShouldBe("15511210043330985984000000");
    }

    [Theory]
    [MemberData(nameof(Engines.All), MemberType = typeof(Engines))]
    public void Factorials_up_to_1000_equal_a_naive_loop(string engineName)
    {
        var engine = Engines.Get(engineName);
        var ct = TestContext.Current.CancellationToken;
        var naive = BigInteger.One;
        for (var n = 0; n <= 1000; n++)
        {
            if (n > 1)
            {
                naive *= n;
            }

            // Every n around the direct limit and the level boundaries, then a sample.
            if (n <= 70 || n % 37 == 0 || n == 1000)
            {
                engine.Factorial(n, ct, null).ShouldBe(naive, $"{n}!");
            }
        }

        engine.FactorialToDecimalString(1000, ct, null).ShouldBe(naive.ToString(CultureInfo.InvariantCulture));
    }

    [Theory]
    [MemberData(nameof(Engines.All), MemberType = typeof(Engines))]
    public void Factorial_of_100000_has_456574_digits_with_known_ends(string engineName)
    {
        var engine = Engines.Get(engineName);

        var text = engine.FactorialToDecimalString(100_000, TestContext.Current.CancellationToken, null);

        text.Length.ShouldBe(456_574);
        text.ShouldStartWith("2824229407960347874293421578024535518477");
        // 100000! ends in 24999 zeros (floor(n/5) + floor(n/25) + ...).
        var significant = text.TrimEnd('0');
        (text.Length - significant.Length).ShouldBe(24_999);
        significant.ShouldEndWith("18545898454957162496");
        // SHA-256 of the whole text as printed by Python 3.11 (math.factorial + str).
        Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(text)))
            .ShouldBe("820239691ef9b4887957093bb745a1ac33d3184b272db3e9a0d0a37062a13399");
    }

    [Theory]
    [MemberData(nameof(Engines.All), MemberType = typeof(Engines))]
    public void Factorial_as_integer_and_as_text_agree(string engineName)
    {
        var engine = Engines.Get(engineName);
        var ct = TestContext.Current.CancellationToken;

        var value = engine.Factorial(30_000, ct, null);

        engine.FactorialToDecimalString(30_000, ct, null).ShouldBe(engine.ToDecimalString(value, ct));
        value.GetBitLength().ShouldBeLessThanOrEqualTo(BigMath.EstimateFactorialBits(30_000));
        value.GetBitLength().ShouldBeGreaterThan(BigMath.EstimateFactorialBits(30_000) - 4);
    }

    [Fact]
    public void Both_engines_compute_the_same_large_factorial()
    {
        var gmp = Engines.Get(Engines.Gmp);
        var ct = TestContext.Current.CancellationToken;

        gmp.Factorial(200_003, ct, null).ShouldBe(BigIntegerEngine.Managed.Factorial(200_003, ct, null));
    }

    [Fact]
    public void Negative_n_is_rejected()
    {
        Should.Throw<ArgumentOutOfRangeException>(() => BigMath.Factorial(-1, TestContext.Current.CancellationToken));
    }
}
