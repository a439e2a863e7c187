using System.Numerics;

namespace Calc.Numerics.Tests;

public sealed class BigRationalTests
{
    [Theory]
    [InlineData(6, 4, "3/2")]
    [InlineData(-6, 4, "-3/2")]
    [InlineData(6, -4, "-3/2")]
    [InlineData(-6, -4, "3/2")]
    [InlineData(0, -5, "0")]
    [InlineData(51, 1, "51")]
    [InlineData(102, 2, "51")]
    [InlineData(-7, 2, "-7/2")]
    public void Values_are_normalized(long numerator, long denominator, string expected)
    {
        var value = new BigRational(numerator, denominator);

        value.ToString().ShouldBe(expected);
        value.Denominator.Sign.ShouldBe(1);
        BigInteger.GreatestCommonDivisor(value.Numerator, value.Denominator).ShouldBe(BigInteger.One);
        value.IsInteger.ShouldBe(!expected.Contains('/'));
    }

    [Fact]
    public void Default_is_zero_over_one()
    {
        BigRational value = default;

        value.Numerator.ShouldBe(BigInteger.Zero);
        value.Denominator.ShouldBe(BigInteger.One);
        value.IsInteger.ShouldBeTrue();
        value.ShouldBe(BigRational.Zero);
        value.ShouldBe(new BigRational(0, 17));
        value.ToString().ShouldBe("0");
    }

    [Fact]
    public void Arithmetic_is_exact()
    {
        var half = new BigRational(1, 2);
        var third = new BigRational(1, 3);

        (half + third).ShouldBe(new BigRational(5, 6));
        (half - third).ShouldBe(new BigRational(1, 6));
        (third - half).ToString().ShouldBe("-1/6");
        (half * third).ShouldBe(new BigRational(1, 6));
        (half / third).ShouldBe(new BigRational(3, 2));
        (-half).ToString().ShouldBe("-1/2");
        (half + half).ShouldBe(BigRational.One);
        (half + half).IsInteger.ShouldBeTrue();
        (BigRational.FromInteger(50) + 1).ToString().ShouldBe("51");
        BigRational.Add(new BigRational(1, 10), new BigRational(2, 10)).ShouldBe(new BigRational(3, 10));
        BigRational.Subtract(5, new BigRational(3, 2)).ToString().ShouldBe("7/2");
        BigRational.Multiply(new BigRational(-7, 3), 3).ToString().ShouldBe("-7");
        BigRational.Divide(-7, 2).ToString().ShouldBe("-7/2");
    }

    [Fact]
    public void Division_by_zero_throws()
    {
        Should.Throw<DivideByZeroException>(() => BigRational.One / BigRational.Zero);
        Should.Throw<DivideByZeroException>(() => BigRational.Divide(5, default));
        Should.Throw<DivideByZeroException>(() => new BigRational(1, 0));
    }

    [Fact]
    public void Powers_accept_negative_exponents()
    {
        var ct = TestContext.Current.CancellationToken;
        var twoThirds = new BigRational(2, 3);

        BigRational.Pow(twoThirds, 3, ct).ToString().ShouldBe("8/27");
        BigRational.Pow(twoThirds, -3, ct).ToString().ShouldBe("27/8");
        BigRational.Pow(new BigRational(-2, 3), -3, ct).ToString().ShouldBe("-27/8");
        BigRational.Pow(new BigRational(-2, 3), -2, ct).ToString().ShouldBe("9/4");
        BigRational.Pow(2, -1, ct).ToString().ShouldBe("1/2");
        BigRational.Pow(twoThirds, 0, ct).ShouldBe(BigRational.One);
        BigRational.Pow(BigRational.Zero, 0, ct).ShouldBe(BigRational.One);
        BigRational.Pow(BigRational.Zero, 5, ct).ShouldBe(BigRational.Zero);
        BigRational.Pow(-1, BigInteger.Pow(10, 40) + 1, ct).ToString().ShouldBe("-1");
        BigRational.Pow(10, 100, ct).ToString().ShouldBe("1" + new string('0', 100));
    }

    [Fact]
    public void Zero_to_a_negative_power_throws()
    {
        Should.Throw<DivideByZeroException>(() => BigRational.Pow(BigRational.Zero, -1, TestContext.Current.CancellationToken));
    }

    [Fact]
    public void An_exponent_beyond_int_range_is_refused_for_other_bases()
    {
        Should.Throw<OverflowException>(() => BigRational.Pow(2, (BigInteger)int.MaxValue + 1, TestContext.Current.CancellationToken));
    }

    [Fact]
    public void ToString_is_exact_for_huge_parts()
    {
        var value = new BigRational(BigInteger.Pow(10, 5000) + 1, BigInteger.Pow(3, 7000));

        var text = value.ToString();

        text.ShouldStartWith("1" + new string('0', 4999) + "1/");
        text.Split('/')[1].ShouldBe(BigInteger.Pow(3, 7000).ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Equality_follows_value()
    {
        var a = new BigRational(2, 4);
        var b = new BigRational(-3, -6);

        (a == b).ShouldBeTrue();
        (a != b).ShouldBeFalse();
        a.Equals((object)b).ShouldBeTrue();
        a.GetHashCode().ShouldBe(b.GetHashCode());
        a.ShouldNotBe(new BigRational(1, 3));
    }
}
