using System.Numerics;

namespace Calc.Numerics;

/// <summary>
/// Big arithmetic in GMP. Values stay in mpz from the first product to the last step and cross to
/// <see cref="BigInteger"/> (or text) once. Every mpz is a stack local cleared in a finally block.
/// </summary>
internal sealed unsafe class GmpBigIntegerEngine(GmpLibrary gmp) : BigIntegerEngine
{
    /// <summary>Factors multiplied one word at a time (mpz_mul_ui) before the tree multiplies halves.</summary>
    private const int LeafWords = 16;

    /// <summary>Share of the work planned for mpz_get_str, relative to the factorial itself (measured: ~5x).</summary>
    private const double DecimalConversionWeight = 5;

    public override string Name => "gmp " + gmp.Version;

    protected override BigInteger FactorialCore(PrimeSwing swing, CancellationToken cancellationToken, IProgress<int>? progress)
    {
        var meter = new ProgressMeter(progress, PlanFactorial(swing));
        Mpz result;
        gmp.Init(&result);
        try
        {
            Factorial(&result, swing, meter, cancellationToken);
            var value = gmp.ToBigInteger(&result);
            meter.Complete();
            return value;
        }
        finally
        {
            gmp.Clear(&result);
        }
    }

    protected override string FactorialToDecimalStringCore(PrimeSwing swing, CancellationToken cancellationToken, IProgress<int>? progress)
    {
        var factorialWork = PlanFactorial(swing);
        var meter = new ProgressMeter(progress, factorialWork * (1 + DecimalConversionWeight));
        Mpz result;
        gmp.Init(&result);
        try
        {
            Factorial(&result, swing, meter, cancellationToken);
            cancellationToken.ThrowIfCancellationRequested();
            var text = gmp.ToDecimalString(&result);
            meter.Complete();
            return text;
        }
        finally
        {
            gmp.Clear(&result);
        }
    }

    protected override BigInteger PowCore(BigInteger odd, int exponent, ProgressMeter meter, CancellationToken cancellationToken)
    {
        var baseBits = (double)odd.GetBitLength();
        var topBit = 31 - BitOperations.LeadingZeroCount((uint)exponent);
        if (meter.IsActive)
        {
            meter.Plan(PowPlan(baseBits, exponent, topBit));
        }

        Mpz b, r;
        gmp.Init(&b);
        gmp.Init(&r);
        try
        {
            gmp.Set(&b, odd);
            gmp.Set(&r, odd);
            // Left to right: one squaring per bit, one multiplication per set bit; cancellable between them
            // (mpz_pow_ui would be one uncancellable call).
            double bits = baseBits;
            for (var bit = topBit - 1; bit >= 0; bit--)
            {
                cancellationToken.ThrowIfCancellationRequested();
                gmp.Multiply(&r, &r, &r);
                bits *= 2;
                if (((exponent >> bit) & 1) == 1)
                {
                    gmp.Multiply(&r, &r, &b);
                    bits += baseBits;
                }

                meter.Advance(ProgressMeter.MultiplyCost(bits));
            }

            return gmp.ToBigInteger(&r);
        }
        finally
        {
            gmp.Clear(&r);
            gmp.Clear(&b);
        }
    }

    protected override string ToDecimalStringCore(BigInteger value, CancellationToken cancellationToken)
    {
        Mpz x;
        gmp.Init(&x);
        try
        {
            gmp.Set(&x, value);
            return gmp.ToDecimalString(&x);
        }
        finally
        {
            gmp.Clear(&x);
        }
    }

    protected override BigInteger ParseDecimalCore(ReadOnlySpan<char> text)
    {
        Mpz x;
        gmp.Init(&x);
        try
        {
            return gmp.TrySetDecimal(&x, text)
                ? gmp.ToBigInteger(&x)
                : throw new FormatException("Not a decimal integer.");
        }
        finally
        {
            gmp.Clear(&x);
        }
    }

    internal static double PowPlan(double baseBits, int exponent, int topBit)
    {
        double total = 0, bits = baseBits;
        for (var bit = topBit - 1; bit >= 0; bit--)
        {
            bits = bits * 2 + (((exponent >> bit) & 1) == 1 ? baseBits : 0);
            total += ProgressMeter.MultiplyCost(bits);
        }

        return total;
    }

    /// <summary>result = n! for the n of <paramref name="swing"/>.</summary>
    private void Factorial(Mpz* result, PrimeSwing swing, ProgressMeter meter, CancellationToken cancellationToken)
    {
        gmp.Set(result, swing.SmallOddFactorial);
        Mpz swingProduct;
        gmp.Init(&swingProduct);
        try
        {
            // Smallest level first: O(m) = O(m/2)^2 * S(m).
            for (var i = swing.SwingFactors.Length - 1; i >= 0; i--)
            {
                Product(&swingProduct, swing.SwingFactors[i], meter, cancellationToken);
                cancellationToken.ThrowIfCancellationRequested();
                gmp.Multiply(result, result, result);
                cancellationToken.ThrowIfCancellationRequested();
                gmp.Multiply(result, result, &swingProduct);
                meter.Advance(SquareStepCost(swing.Levels[i]));
            }
        }
        finally
        {
            gmp.Clear(&swingProduct);
        }

        cancellationToken.ThrowIfCancellationRequested();
        gmp.ShiftLeft(result, result, (ulong)swing.TwoExponent);
    }

    /// <summary>Balanced product tree: halves of similar size, so GMP's subquadratic multiplication pays off.</summary>
    private void Product(Mpz* result, ReadOnlySpan<ulong> factors, ProgressMeter meter, CancellationToken cancellationToken)
    {
        if (factors.Length <= LeafWords)
        {
            gmp.Set(result, factors.IsEmpty ? 1UL : factors[0]);
            for (var i = 1; i < factors.Length; i++)
            {
                gmp.Multiply(result, result, factors[i]);
            }

            meter.Advance(ProgressMeter.MultiplyCost(factors.Length * 64.0));
            return;
        }

        var half = factors.Length / 2;
        Mpz high;
        gmp.Init(&high);
        try
        {
            Product(&high, factors[half..], meter, cancellationToken);
            Product(result, factors[..half], meter, cancellationToken);
            cancellationToken.ThrowIfCancellationRequested();
            gmp.Multiply(result, result, &high);
            meter.Advance(ProgressMeter.MultiplyCost(factors.Length * 64.0));
        }
        finally
        {
            gmp.Clear(&high);
        }
    }
}
