using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Calc.Numerics;

/// <summary>
/// Big arithmetic on <see cref="BigInteger"/> alone: the same prime swing and product tree as the GMP engine, and a
/// divide-and-conquer decimal conversion (<see cref="DecimalFormatter"/>) because BigInteger.ToString is quadratic.
/// </summary>
internal sealed class ManagedBigIntegerEngine : BigIntegerEngine
{
    /// <summary>Factors multiplied into one limb array before the tree multiplies BigIntegers.</summary>
    private const int LeafWords = 32;

    /// <summary>Share of the work planned for the decimal conversion, relative to the factorial itself (measured: ~3x).</summary>
    private const double DecimalConversionWeight = 3;

    public override string Name => "managed";

    protected override BigInteger FactorialCore(PrimeSwing swing, CancellationToken cancellationToken, IProgress<int>? progress)
    {
        var meter = new ProgressMeter(progress, PlanFactorial(swing));
        var value = Factorial(swing, meter, cancellationToken);
        meter.Complete();
        return value;
    }

    protected override string FactorialToDecimalStringCore(PrimeSwing swing, CancellationToken cancellationToken, IProgress<int>? progress)
    {
        var factorialWork = PlanFactorial(swing);
        var meter = new ProgressMeter(progress, factorialWork * (1 + DecimalConversionWeight));
        var value = Factorial(swing, meter, cancellationToken);
        var text = DecimalFormatter.Format(value, meter, factorialWork * DecimalConversionWeight, cancellationToken);
        meter.Complete();
        return text;
    }

    protected override BigInteger PowCore(BigInteger odd, int exponent, ProgressMeter meter, CancellationToken cancellationToken)
    {
        var baseBits = (double)odd.GetBitLength();
        var topBit = 31 - BitOperations.LeadingZeroCount((uint)exponent);
        if (meter.IsActive)
        {
            meter.Plan(GmpBigIntegerEngine.PowPlan(baseBits, exponent, topBit));
        }

        var result = odd;
        double bits = baseBits;
        for (var bit = topBit - 1; bit >= 0; bit--)
        {
            cancellationToken.ThrowIfCancellationRequested();
            result *= result;
            bits *= 2;
            if (((exponent >> bit) & 1) == 1)
            {
                result *= odd;
                bits += baseBits;
            }

            meter.Advance(ProgressMeter.MultiplyCost(bits));
        }

        return result;
    }

    protected override string ToDecimalStringCore(BigInteger value, CancellationToken cancellationToken) =>
        DecimalFormatter.Format(value, meter: null, plannedWork: 0, cancellationToken);

    protected override BigInteger ParseDecimalCore(ReadOnlySpan<char> text) =>
        BigInteger.Parse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);

    private static BigInteger Factorial(PrimeSwing swing, ProgressMeter meter, CancellationToken cancellationToken)
    {
        BigInteger result = swing.SmallOddFactorial;
        for (var i = swing.SwingFactors.Length - 1; i >= 0; i--)
        {
            var swingProduct = Product(swing.SwingFactors[i], meter, cancellationToken);
            cancellationToken.ThrowIfCancellationRequested();
            result *= result;
            cancellationToken.ThrowIfCancellationRequested();
            result *= swingProduct;
            meter.Advance(SquareStepCost(swing.Levels[i]));
        }

        cancellationToken.ThrowIfCancellationRequested();
        return result << checked((int)swing.TwoExponent);
    }

    private static BigInteger Product(ReadOnlySpan<ulong> factors, ProgressMeter meter, CancellationToken cancellationToken)
    {
        if (factors.Length <= LeafWords)
        {
            meter.Advance(ProgressMeter.MultiplyCost(factors.Length * 64.0));
            return LeafProduct(factors);
        }

        var half = factors.Length / 2;
        var low = Product(factors[..half], meter, cancellationToken);
        var high = Product(factors[half..], meter, cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();
        var product = low * high;
        meter.Advance(ProgressMeter.MultiplyCost(factors.Length * 64.0));
        return product;
    }

    /// <summary>Schoolbook product of a few words in one limb array: no BigInteger per step.</summary>
    private static BigInteger LeafProduct(ReadOnlySpan<ulong> factors)
    {
        if (factors.IsEmpty)
        {
            return BigInteger.One;
        }

        Span<ulong> limbs = stackalloc ulong[LeafWords + 1];
        limbs[0] = factors[0];
        var length = 1;
        for (var i = 1; i < factors.Length; i++)
        {
            ulong carry = 0;
            var factor = factors[i];
            for (var j = 0; j < length; j++)
            {
                var high = Math.BigMul(limbs[j], factor, out var low);
                low += carry;
                carry = high + (low < carry ? 1UL : 0UL);
                limbs[j] = low;
            }

            if (carry != 0)
            {
                limbs[length++] = carry;
            }
        }

        return new BigInteger(MemoryMarshal.AsBytes(limbs[..length]), isUnsigned: true, isBigEndian: false);
    }
}
