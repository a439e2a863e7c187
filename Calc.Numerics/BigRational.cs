using System.Numerics;

namespace Calc.Numerics;

/// <summary>
/// An exact rational number: a <see cref="BigInteger"/> numerator over a positive denominator, always reduced
/// (gcd 1), so equal values have equal representations. <c>default</c> is zero.
/// </summary>
public readonly struct BigRational : IEquatable<BigRational>
{
    private readonly BigInteger _numerator;

    // Stored as denominator - 1 so that default(BigRational) is 0/1.
    private readonly BigInteger _denominatorMinusOne;

    private BigRational(BigInteger reducedNumerator, BigInteger positiveReducedDenominator, bool _)
    {
        _numerator = reducedNumerator;
        _denominatorMinusOne = positiveReducedDenominator - BigInteger.One;
    }

    /// <summary>Creates numerator/denominator, reduced and with the sign on the numerator.</summary>
    /// <param name="numerator">The numerator.</param>
    /// <param name="denominator">The denominator; must not be zero.</param>
    /// <exception cref="DivideByZeroException"><paramref name="denominator"/> is zero.</exception>
    public BigRational(BigInteger numerator, BigInteger denominator)
    {
        if (denominator.IsZero)
        {
            throw new DivideByZeroException("The denominator of a rational number cannot be zero.");
        }

        if (denominator.Sign < 0)
        {
            numerator = -numerator;
            denominator = -denominator;
        }

        var gcd = BigInteger.GreatestCommonDivisor(numerator, denominator);
        if (!gcd.IsOne)
        {
            numerator /= gcd;
            denominator /= gcd;
        }

        _numerator = numerator;
        _denominatorMinusOne = denominator - BigInteger.One;
    }

    /// <summary>0.</summary>
    public static BigRational Zero => default;

    /// <summary>1.</summary>
    public static BigRational One => new(BigInteger.One, BigInteger.One, true);

    /// <summary>The numerator; carries the sign.</summary>
    public BigInteger Numerator => _numerator;

    /// <summary>The denominator; always positive.</summary>
    public BigInteger Denominator => _denominatorMinusOne + BigInteger.One;

    /// <summary>True when the denominator is 1.</summary>
    public bool IsInteger => _denominatorMinusOne.IsZero;

    /// <summary>True for 0.</summary>
    public bool IsZero => _numerator.IsZero;

    /// <summary>-1, 0 or 1.</summary>
    public int Sign => _numerator.Sign;

    /// <summary>The integer <paramref name="value"/> as a rational.</summary>
    /// <param name="value">Any integer.</param>
    public static BigRational FromInteger(BigInteger value) => new(value, BigInteger.One, true);

    /// <summary>left + right.</summary>
    /// <param name="left">The left operand.</param>
    /// <param name="right">The right operand.</param>
    public static BigRational Add(BigRational left, BigRational right)
    {
        if (left.IsInteger && right.IsInteger)
        {
            return FromInteger(left._numerator + right._numerator);
        }

        var ld = left.Denominator;
        var rd = right.Denominator;
        return new BigRational((left._numerator * rd) + (right._numerator * ld), ld * rd);
    }

    /// <summary>left - right.</summary>
    /// <param name="left">The left operand.</param>
    /// <param name="right">The right operand.</param>
    public static BigRational Subtract(BigRational left, BigRational right) => Add(left, Negate(right));

    /// <summary>left * right.</summary>
    /// <param name="left">The left operand.</param>
    /// <param name="right">The right operand.</param>
    public static BigRational Multiply(BigRational left, BigRational right)
    {
        if (left.IsInteger && right.IsInteger)
        {
            return FromInteger(left._numerator * right._numerator);
        }

        return new BigRational(left._numerator * right._numerator, left.Denominator * right.Denominator);
    }

    /// <summary>left / right.</summary>
    /// <param name="left">The dividend.</param>
    /// <param name="right">The divisor.</param>
    /// <exception cref="DivideByZeroException"><paramref name="right"/> is zero.</exception>
    public static BigRational Divide(BigRational left, BigRational right)
    {
        if (right.IsZero)
        {
            throw new DivideByZeroException();
        }

        return new BigRational(left._numerator * right.Denominator, left.Denominator * right._numerator);
    }

    /// <summary>-value.</summary>
    /// <param name="value">The value to negate.</param>
    public static BigRational Negate(BigRational value) => new(-value._numerator, value.Denominator, true);

    /// <summary>
    /// <paramref name="baseValue"/> raised to <paramref name="exponent"/>, which may be negative (the reciprocal's power).
    /// </summary>
    /// <param name="baseValue">The base.</param>
    /// <param name="exponent">Any integer; x^0 is 1, 0^0 included.</param>
    /// <param name="cancellationToken">Checked between squarings.</param>
    /// <exception cref="DivideByZeroException">Zero to a negative power.</exception>
    /// <exception cref="OverflowException">|exponent| above <see cref="int.MaxValue"/> with a base other than 0, 1 or -1.</exception>
    public static BigRational Pow(BigRational baseValue, BigInteger exponent, CancellationToken cancellationToken = default)
    {
        if (exponent.IsZero)
        {
            return One;
        }

        if (baseValue.IsZero)
        {
            return exponent.Sign > 0 ? Zero : throw new DivideByZeroException("Zero cannot be raised to a negative power.");
        }

        var numerator = baseValue._numerator;
        var denominator = baseValue.Denominator;
        if (exponent.Sign < 0)
        {
            (numerator, denominator) = numerator.Sign < 0 ? (-denominator, -numerator) : (denominator, numerator);
            exponent = -exponent;
        }

        if (BigInteger.Abs(numerator).IsOne && denominator.IsOne)
        {
            return FromInteger(numerator.Sign < 0 && !exponent.IsEven ? BigInteger.MinusOne : BigInteger.One);
        }

        if (exponent > int.MaxValue)
        {
            throw new OverflowException("The exponent is too large for a result that must be held exactly.");
        }

        // Powers of coprime numbers stay coprime: no gcd needed.
        var e = (int)exponent;
        return new BigRational(
            BigMath.Pow(numerator, e, cancellationToken),
            denominator.IsOne ? BigInteger.One : BigMath.Pow(denominator, e, cancellationToken),
            true);
    }

    /// <summary>
    /// Exact text: "51", "-7/2"; never rounded, in subquadratic time for huge parts. For a cancellable conversion, use
    /// <see cref="BigMath.ToDecimalString"/> on <see cref="Numerator"/> and <see cref="Denominator"/>.
    /// </summary>
    public override string ToString() =>
        IsInteger
            ? BigMath.ToDecimalString(_numerator)
            : BigMath.ToDecimalString(_numerator) + "/" + BigMath.ToDecimalString(Denominator);

    /// <inheritdoc />
    public bool Equals(BigRational other) =>
        _numerator.Equals(other._numerator) && _denominatorMinusOne.Equals(other._denominatorMinusOne);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is BigRational other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(_numerator, _denominatorMinusOne);

    /// <summary>The integer as a rational.</summary>
    /// <param name="value">Any integer.</param>
    public static implicit operator BigRational(BigInteger value) => FromInteger(value);

    /// <summary>The integer as a rational.</summary>
    /// <param name="value">Any integer.</param>
    public static implicit operator BigRational(long value) => FromInteger(value);

    /// <inheritdoc cref="Add"/>
    public static BigRational operator +(BigRational left, BigRational right) => Add(left, right);

    /// <inheritdoc cref="Subtract"/>
    public static BigRational operator -(BigRational left, BigRational right) => Subtract(left, right);

    /// <inheritdoc cref="Multiply"/>
    public static BigRational operator *(BigRational left, BigRational right) => Multiply(left, right);

    /// <inheritdoc cref="Divide"/>
    public static BigRational operator /(BigRational left, BigRational right) => Divide(left, right);

    /// <inheritdoc cref="Negate"/>
    public static BigRational operator -(BigRational value) => Negate(value);

    /// <summary>Exact equality.</summary>
    /// <param name="left">The left operand.</param>
    /// <param name="right">The right operand.</param>
    public static bool operator ==(BigRational left, BigRational right) => left.Equals(right);

    /// <summary>Exact inequality.</summary>
    /// <param name="left">The left operand.</param>
    /// <param name="right">The right operand.</param>
    public static bool operator !=(BigRational left, BigRational right) => !left.Equals(right);
}
