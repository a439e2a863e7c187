using System.Globalization;
using System.Numerics;

namespace Calc.Numerics.Tests;

public sealed class DecimalConversionTests
{
    [Theory]
    [MemberData(nameof(Engines.All), MemberType = typeof(Engines))]
    public void ToDecimalString_equals_BigInteger_ToString_for_random_values_of_many_sizes(string engineName)
    {
        var engine = Engines.Get(engineName);
        var ct = TestContext.Current.CancellationToken;
        var random = new Random(20261122);
        foreach (var bits in new[] { 1, 63, 64, 65, 4095, 4096, 4097, 5000, 12_345, 40_000, 100_000, 150_001 })
        {
            for (var i = 0; i < 3; i++)
            {
                var value = RandomValue(random, bits);
                if (i == 1)
                {
                    value = -value;
                }

                engine.ToDecimalString(value, ct).ShouldBe(value.ToString(CultureInfo.InvariantCulture), $"{bits} bits");
            }
        }

        engine.ToDecimalString(BigInteger.Zero, ct).ShouldBe("0");
        engine.ToDecimalString(BigInteger.MinusOne, ct).ShouldBe("-1");
    }

    [Theory]
    [MemberData(nameof(Engines.All), MemberType = typeof(Engines))]
    public void Powers_of_ten_and_their_neighbours_keep_every_zero(string engineName)
    {
        var engine = Engines.Get(engineName);
        var ct = TestContext.Current.CancellationToken;
        // Around the leaf width and the split points 10^(512 * 2^k), where zero padding matters.
        foreach (var digits in new[] { 1233, 1234, 1536, 2048, 4095, 4096, 4097, 8192, 10_000, 16_384, 16_385 })
        {
            var power = BigInteger.Pow(10, digits);
            engine.ToDecimalString(power, ct).ShouldBe("1" + new string('0', digits));
            engine.ToDecimalString(power - 1, ct).ShouldBe(new string('9', digits));
            engine.ToDecimalString(power + 1, ct).ShouldBe("1" + new string('0', digits - 1) + "1");
            engine.ToDecimalString(-power, ct).ShouldBe("-1" + new string('0', digits));
            // A digit block of zeros in the middle: 10^d * 7 + 3.
            engine.ToDecimalString((power * 7) + 3, ct).ShouldBe("7" + new string('0', digits - 1) + "3");
        }
    }

    [Fact]
    public void Both_engines_write_the_same_text_for_a_value_of_a_million_bits()
    {
        var gmp = Engines.Get(Engines.Gmp);
        var ct = TestContext.Current.CancellationToken;
        var value = -RandomValue(new Random(7), 1_000_000);

        var text = BigIntegerEngine.Managed.ToDecimalString(value, ct);

        text.ShouldBe(gmp.ToDecimalString(value, ct));
        BigMath.ParseDecimal(text).ShouldBe(value);
    }

    [Theory]
    [MemberData(nameof(Engines.All), MemberType = typeof(Engines))]
    public void ParseDecimal_reads_what_ToDecimalString_writes(string engineName)
    {
        var engine = Engines.Get(engineName);
        var ct = TestContext.Current.CancellationToken;
        var random = new Random(3);
        foreach (var bits in new[] { 1, 100, 5000, 60_000 })
        {
            var value = RandomValue(random, bits);
            engine.ParseDecimal(engine.ToDecimalString(value, ct)).ShouldBe(value);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("-")]
    [InlineData("12 3")]
    [InlineData("1_000")]
    [InlineData("0x10")]
    [InlineData("١٢")]
    public void ParseDecimal_rejects_anything_but_sign_and_digits(string text)
    {
        Should.Throw<FormatException>(() => BigMath.ParseDecimal(text));
    }

    [Fact]
    public void ParseDecimal_accepts_a_sign()
    {
        BigMath.ParseDecimal("-042").ShouldBe(new BigInteger(-42));
        BigMath.ParseDecimal("+7").ShouldBe(new BigInteger(7));
    }

    private static BigInteger RandomValue(Random random, int bits)
    {
        var bytes = new byte[(bits + 7) / 8];
        random.NextBytes(bytes);
        var value = new BigInteger(bytes, isUnsigned: true);
        // Exactly `bits` bits: clear the excess, set the top bit.
        value &= (BigInteger.One << bits) - 1;
        return value | (BigInteger.One << (bits - 1));
    }
}
