using System.Globalization;
using System.Numerics;
using Calc.Calculations.Contracts;
using Calc.Numerics;

namespace Calc.Calculations.Domain;

/// <summary>
/// Computes a calculation exactly. Expected failures (division by zero, a result over the size limit) come back as
/// an error value; a stop request (timeout, cancellation, shutdown) throws <see cref="OperationCanceledException"/>.
/// </summary>
internal static class CalculationEngine
{
    public static Evaluation Evaluate(Calculation calculation, CalculationsOptions limits, IProgress<int> progress, CancellationToken cancellationToken)
    {
        var init = BigInteger.Parse(calculation.Init, CultureInfo.InvariantCulture);
        var terms = calculation.Terms.Select(t => BigInteger.Parse(t, CultureInfo.InvariantCulture)).ToArray();
        var evaluation = calculation.Type switch
        {
            CalculationType.Factorial => Factorial(init, limits, progress, cancellationToken),
            CalculationType.Addition => Fold(init, terms, static (a, b) => a + b, progress, cancellationToken),
            CalculationType.Subtraction => Fold(init, terms, static (a, b) => a - b, progress, cancellationToken),
            CalculationType.Multiplication => Fold(init, terms, static (a, b) => a * b, progress, cancellationToken),
            CalculationType.Division => Divide(init, terms, progress, cancellationToken),
            CalculationType.Power => Power(init, terms, limits, progress, cancellationToken),
            _ => Evaluation.Failure($"Unknown calculation type '{calculation.Type}'."),
        };
        progress.Report(100);
        return evaluation;
    }

    private static Evaluation Factorial(BigInteger n, CalculationsOptions limits, IProgress<int> progress, CancellationToken cancellationToken)
    {
        if (n.Sign < 0 || n > limits.MaxFactorialN)
        {
            return Evaluation.Failure($"A factorial needs 0 <= n <= {limits.MaxFactorialN} (Calculations:MaxFactorialN).");
        }

        var digits = BigMath.FactorialToDecimalString((int)n, cancellationToken, progress);
        return Evaluation.Success(digits, digits.Length);
    }

    private static Evaluation Fold(BigInteger init, BigInteger[] terms, Func<BigInteger, BigInteger, BigInteger> step, IProgress<int> progress, CancellationToken cancellationToken)
    {
        var value = init;
        for (var i = 0; i < terms.Length; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            value = step(value, terms[i]);
            progress.Report(90 * (i + 1) / terms.Length);
        }

        return Integer(value, cancellationToken);
    }

    private static Evaluation Divide(BigInteger init, BigInteger[] terms, IProgress<int> progress, CancellationToken cancellationToken)
    {
        var value = BigRational.FromInteger(init);
        for (var i = 0; i < terms.Length; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (terms[i].IsZero)
            {
                return Evaluation.Failure($"Division by zero: term {i + 1} is 0.");
            }

            value /= terms[i];
            progress.Report(90 * (i + 1) / terms.Length);
        }

        return Fraction(value.Numerator, value.Denominator, cancellationToken);
    }

    // ((init ^ t1) ^ t2) ...; kept as a reduced fraction num/den (powers of coprime numbers stay coprime).
    private static Evaluation Power(BigInteger init, BigInteger[] terms, CalculationsOptions limits, IProgress<int> progress, CancellationToken cancellationToken)
    {
        var (num, den) = (init, BigInteger.One);
        for (var i = 0; i < terms.Length; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var exponent = terms[i];
            if (num.IsZero && exponent.Sign < 0)
            {
                return Evaluation.Failure($"Division by zero: 0 raised to the negative power {exponent} (term {i + 1}).");
            }

            if (BigInteger.Abs(num) <= 1 && den.IsOne)
            {
                // 0, 1 and -1 stay small whatever the exponent.
                num = num.IsZero ? (exponent.IsZero ? 1 : 0) : (num.Sign < 0 && exponent.IsEven ? 1 : num);
                continue;
            }

            var magnitude = BigInteger.Abs(exponent);
            var bits = ((BigInteger)(num.GetBitLength() + den.GetBitLength())) * magnitude;
            if (bits > limits.MaxResultBits)
            {
                return Evaluation.Failure(
                    $"The result would have about {bits} bits, over the limit of {limits.MaxResultBits} (Calculations:MaxResultBits).");
            }

            var stepProgress = terms.Length == 1 ? progress : null;
            num = BigMath.Pow(num, (int)magnitude, cancellationToken, stepProgress);
            den = BigMath.Pow(den, (int)magnitude, cancellationToken, stepProgress);
            if (exponent.Sign < 0)
            {
                (num, den) = num.Sign < 0 ? (-den, -num) : (den, num);
            }

            progress.Report(90 * (i + 1) / terms.Length);
        }

        return Fraction(num, den, cancellationToken);
    }

    private static Evaluation Integer(BigInteger value, CancellationToken cancellationToken)
    {
        var text = BigMath.ToDecimalString(value, cancellationToken);
        return Evaluation.Success(text, text.Length - (value.Sign < 0 ? 1 : 0));
    }

    private static Evaluation Fraction(BigInteger numerator, BigInteger denominator, CancellationToken cancellationToken)
    {
        if (denominator.IsOne)
        {
            return Integer(numerator, cancellationToken);
        }

        var top = BigMath.ToDecimalString(numerator, cancellationToken);
        var bottom = BigMath.ToDecimalString(denominator, cancellationToken);
        return Evaluation.Success($"{top}/{bottom}", top.Length - (numerator.Sign < 0 ? 1 : 0));
    }
}

/// <summary>A computed value (exact text and its digit count) or the reason there is none.</summary>
internal sealed record Evaluation(string? Value, int? Digits, string? Error)
{
    public static Evaluation Success(string value, int digits) => new(value, digits, null);

    public static Evaluation Failure(string error) => new(null, null, error);
}
