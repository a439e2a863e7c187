using System.Diagnostics.CodeAnalysis;
using System.Numerics;

namespace Calc.Numerics;

/// <summary>
/// Exact big-integer math for huge results: factorials, powers and decimal conversion. Uses GMP (libgmp.so.10) when
/// it loads and a managed <see cref="BigInteger"/> engine otherwise; both give identical results.
/// </summary>
/// <remarks>
/// <para>Set the environment variable <c>CALC_NUMERICS_NO_GMP=1</c> (before first use) to force the managed engine.</para>
/// <para>Every long operation checks its <see cref="CancellationToken"/> between multiplications; one multiplication
/// runs to its end once started. Check <see cref="EstimateFactorialBits"/> / <see cref="EstimatePowerBits"/> against a
/// size limit before computing: GMP aborts the process when it runs out of memory.</para>
/// </remarks>
public static class BigMath
{
    /// <summary>Name of the environment variable that, set to 1, forces the managed engine.</summary>
    public const string DisableGmpVariable = "CALC_NUMERICS_NO_GMP";

    private static readonly Lazy<BigIntegerEngine> SelectedEngine = new(SelectEngine);

    /// <summary>True when GMP loaded and is in use (false when it is missing or disabled by <see cref="DisableGmpVariable"/>).</summary>
    public static bool GmpAvailable => Engine is GmpBigIntegerEngine;

    /// <summary>The engine in use: "gmp 6.2.1" (GMP's own version) or "managed".</summary>
    public static string EngineDescription => Engine.Name;

    internal static BigIntegerEngine Engine => SelectedEngine.Value;

    /// <summary>n! computed by the prime-swing algorithm with balanced product trees.</summary>
    /// <param name="n">A non-negative integer.</param>
    /// <param name="cancellationToken">Checked between multiplications.</param>
    /// <param name="progress">Receives 0..100, increasing, ending at 100.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> is negative.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    [SuppressMessage("Design", "CA1068:CancellationToken parameters must come last", Justification = "The agreed contract of this package: (n, cancellationToken, progress).")]
    public static BigInteger Factorial(int n, CancellationToken cancellationToken = default, IProgress<int>? progress = null) =>
        Engine.Factorial(n, cancellationToken, progress);

    /// <summary>
    /// The decimal text of n!. With GMP the value never leaves GMP between the factorial and the text, so this is
    /// faster than <see cref="ToDecimalString"/>(<see cref="Factorial"/>(n)).
    /// </summary>
    /// <param name="n">A non-negative integer.</param>
    /// <param name="cancellationToken">Checked between multiplications and before the conversion.</param>
    /// <param name="progress">Receives 0..100, increasing, ending at 100.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> is negative.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    [SuppressMessage("Design", "CA1068:CancellationToken parameters must come last", Justification = "The agreed contract of this package: (n, cancellationToken, progress).")]
    public static string FactorialToDecimalString(int n, CancellationToken cancellationToken = default, IProgress<int>? progress = null) =>
        Engine.FactorialToDecimalString(n, cancellationToken, progress);

    /// <summary><paramref name="value"/> raised to <paramref name="exponent"/> by repeated squaring.</summary>
    /// <param name="value">The base.</param>
    /// <param name="exponent">A non-negative exponent; value^0 is 1 (0^0 included).</param>
    /// <param name="cancellationToken">Checked between squarings.</param>
    /// <param name="progress">Receives 0..100, increasing, ending at 100.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="exponent"/> is negative.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    [SuppressMessage("Design", "CA1068:CancellationToken parameters must come last", Justification = "The agreed contract of this package: (n, cancellationToken, progress).")]
    public static BigInteger Pow(BigInteger value, int exponent, CancellationToken cancellationToken = default, IProgress<int>? progress = null) =>
        Engine.Pow(value, exponent, cancellationToken, progress);

    /// <summary>
    /// Exact decimal text of <paramref name="value"/> ("-" and digits), in subquadratic time (BigInteger.ToString is
    /// quadratic: minutes for a million digits).
    /// </summary>
    /// <param name="value">Any integer.</param>
    /// <param name="cancellationToken">Checked between divisions (managed) or before the conversion (GMP).</param>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public static string ToDecimalString(BigInteger value, CancellationToken cancellationToken = default) =>
        Engine.ToDecimalString(value, cancellationToken);

    /// <summary>Parses an optional '-' or '+' followed by one or more ASCII decimal digits, nothing else.</summary>
    /// <param name="text">The text to parse.</param>
    /// <exception cref="FormatException">Anything else (spaces, separators, an empty string).</exception>
    public static BigInteger ParseDecimal(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var span = text.AsSpan();
        var negative = span.StartsWith('-');
        var digits = span.StartsWith('-') || span.StartsWith('+') ? span[1..] : span;
        if (digits.IsEmpty || digits.ContainsAnyExceptInRange('0', '9'))
        {
            throw new FormatException("Expected an optional sign and decimal digits.");
        }

        var magnitude = Engine.ParseDecimal(digits);
        return negative ? -magnitude : magnitude;
    }

    /// <summary>
    /// An upper bound, tight to a few bits, of the bit length of n! (Stirling's series), for refusing work beyond a
    /// size limit before starting it.
    /// </summary>
    /// <param name="n">A non-negative integer.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> is negative.</exception>
    public static long EstimateFactorialBits(int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        if (n < 2)
        {
            return 1;
        }

        // ln n! = n ln n - n + ln(2 pi n)/2 + 1/(12 n) - ..., the series alternates, so stopping after 1/(12n) bounds it.
        double m = n;
        var ln = (m * Math.Log(m)) - m + (0.5 * Math.Log(2 * Math.PI * m)) + (1 / (12 * m));
        return (long)Math.Floor(ln / Math.Log(2)) + 2;
    }

    /// <summary>
    /// An upper bound, tight to a few bits, of the bit length of |value|^|exponent|, for refusing work beyond a size
    /// limit before starting it. Saturates at <see cref="long.MaxValue"/>.
    /// </summary>
    /// <param name="value">The base.</param>
    /// <param name="exponent">The exponent; its sign is ignored.</param>
    public static long EstimatePowerBits(BigInteger value, BigInteger exponent)
    {
        var magnitude = BigInteger.Abs(value);
        var power = BigInteger.Abs(exponent);
        if (power.IsZero || magnitude <= BigInteger.One)
        {
            return 1;
        }

        var bits = Math.Ceiling((double)power * BigInteger.Log(magnitude, 2)) + 2;
        return bits >= long.MaxValue ? long.MaxValue : (long)bits;
    }

    internal static BigIntegerEngine SelectEngine(string? disableGmp) =>
        disableGmp == "1" ? BigIntegerEngine.Managed : BigIntegerEngine.Gmp ?? BigIntegerEngine.Managed;

    private static BigIntegerEngine SelectEngine() => SelectEngine(Environment.GetEnvironmentVariable(DisableGmpVariable));
}
