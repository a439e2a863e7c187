using System.Globalization;
using System.Numerics;

namespace Calc.Numerics;

/// <summary>
/// One way of doing the heavy arithmetic behind <see cref="BigMath"/>: GMP through P/Invoke or managed
/// <see cref="BigInteger"/>. This base class validates arguments and takes the cheap cases; an engine only does
/// the big ones. Tests run both engines side by side through <see cref="Managed"/> and <see cref="Gmp"/>.
/// </summary>
internal abstract class BigIntegerEngine
{
    /// <summary>Values up to this many bits are formatted and parsed by <see cref="BigInteger"/> itself.</summary>
    internal const int SmallBits = 4096;

    private static readonly Lazy<GmpBigIntegerEngine?> GmpEngine =
        new(() => GmpLibrary.Instance is { } gmp ? new GmpBigIntegerEngine(gmp) : null);

    /// <summary>The managed engine; always there.</summary>
    public static BigIntegerEngine Managed { get; } = new ManagedBigIntegerEngine();

    /// <summary>The GMP engine, or null when libgmp does not load here.</summary>
    public static BigIntegerEngine? Gmp => GmpEngine.Value;

    /// <summary>"gmp 6.2.1" or "managed".</summary>
    public abstract string Name { get; }

    public BigInteger Factorial(int n, CancellationToken cancellationToken, IProgress<int>? progress)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        cancellationToken.ThrowIfCancellationRequested();
        if (n <= PrimeSwing.DirectLimit)
        {
            var meter = new ProgressMeter(progress);
            var value = SmallFactorial(n);
            meter.Complete();
            return value;
        }

        return FactorialCore(PrimeSwing.Create(n, cancellationToken), cancellationToken, progress);
    }

    public string FactorialToDecimalString(int n, CancellationToken cancellationToken, IProgress<int>? progress)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        cancellationToken.ThrowIfCancellationRequested();
        if (n <= PrimeSwing.DirectLimit)
        {
            var meter = new ProgressMeter(progress);
            var text = SmallFactorial(n).ToString(CultureInfo.InvariantCulture);
            meter.Complete();
            return text;
        }

        return FactorialToDecimalStringCore(PrimeSwing.Create(n, cancellationToken), cancellationToken, progress);
    }

    public BigInteger Pow(BigInteger value, int exponent, CancellationToken cancellationToken, IProgress<int>? progress)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(exponent);
        cancellationToken.ThrowIfCancellationRequested();
        var meter = new ProgressMeter(progress);
        BigInteger result;
        if (exponent == 0)
        {
            result = BigInteger.One;
        }
        else if (value.IsZero || exponent == 1)
        {
            result = value;
        }
        else
        {
            // value = odd * 2^shift: the power of two becomes one shift at the end.
            var shift = (long)BigInteger.TrailingZeroCount(value) * exponent;
            var odd = value >> (int)BigInteger.TrailingZeroCount(value);
            if (BigInteger.Abs(odd).IsOne)
            {
                result = odd.Sign < 0 && (exponent & 1) == 1 ? BigInteger.MinusOne : BigInteger.One;
            }
            else
            {
                result = PowCore(odd, exponent, meter, cancellationToken);
            }

            if (shift > 0)
            {
                result <<= checked((int)shift);
            }
        }

        meter.Complete();
        return result;
    }

    public string ToDecimalString(BigInteger value, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return value.GetBitLength() <= SmallBits
            ? value.ToString(CultureInfo.InvariantCulture)
            : ToDecimalStringCore(value, cancellationToken);
    }

    /// <summary>Parses text already checked to be an optional '-' followed by decimal digits.</summary>
    public BigInteger ParseDecimal(ReadOnlySpan<char> text) =>
        text.Length <= SmallBits / 3
            ? BigInteger.Parse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture)
            : ParseDecimalCore(text);

    /// <summary>Odd part O(n) of n! and the final shift, n &gt; <see cref="PrimeSwing.DirectLimit"/>.</summary>
    protected abstract BigInteger FactorialCore(PrimeSwing swing, CancellationToken cancellationToken, IProgress<int>? progress);

    protected abstract string FactorialToDecimalStringCore(PrimeSwing swing, CancellationToken cancellationToken, IProgress<int>? progress);

    /// <summary><paramref name="odd"/>^<paramref name="exponent"/> with |odd| &gt; 1 odd and exponent &gt;= 2.</summary>
    protected abstract BigInteger PowCore(BigInteger odd, int exponent, ProgressMeter meter, CancellationToken cancellationToken);

    protected abstract string ToDecimalStringCore(BigInteger value, CancellationToken cancellationToken);

    protected abstract BigInteger ParseDecimalCore(ReadOnlySpan<char> text);

    /// <summary>Work units of computing O(m) for every level, for the progress meter.</summary>
    protected static double PlanFactorial(PrimeSwing swing)
    {
        double total = 0;
        for (var i = 0; i < swing.SwingFactors.Length; i++)
        {
            total += ProductTreeCost(swing.SwingFactors[i].Length) + SquareStepCost(swing.Levels[i]);
        }

        return total;
    }

    protected static double ProductTreeCost(int words)
    {
        var depth = Math.Max(1, Math.Ceiling(Math.Log2(Math.Max(1, words))));
        return ProgressMeter.MultiplyCost(words * 64.0) * depth;
    }

    /// <summary>O(m) = O(m/2)^2 * S(m): about the cost of a multiplication the size of m!.</summary>
    protected static double SquareStepCost(int m) => ProgressMeter.MultiplyCost(BigMath.EstimateFactorialBits(m));

    private static BigInteger SmallFactorial(int n)
    {
        ulong value = 1;
        for (ulong k = 2; k <= (ulong)n; k++)
        {
            value *= k;
        }

        return value;
    }
}
