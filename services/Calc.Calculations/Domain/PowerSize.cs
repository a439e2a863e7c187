using System.Globalization;
using System.Numerics;

namespace Calc.Calculations.Domain;

/// <summary>
/// How large a power chain ((init ^ t1) ^ t2) … can get, from the operands' sizes alone, so that a term that would
/// make the result pass <see cref="CalculationsOptions.MaxResultBits"/> is refused when it is added instead of being
/// found out when the calculation runs. The estimate starts at the bits of init plus one (its denominator) and
/// multiplies by |t| per term: the same bound the engine checks before each step, and never below the actual size
/// (bits(x^k) ≤ k·bits(x)), so a chain this accepts the engine accepts too. 0, 1 and -1 stay small whatever the
/// exponent, and an exponent 0 makes any value 1.
/// </summary>
internal static class PowerSize
{
    /// <summary>The estimated size in bits once <paramref name="terms"/> are applied, or null as soon as it passes <paramref name="maxBits"/>.</summary>
    public static BigInteger? EstimateBits(BigInteger init, IEnumerable<string> terms, long maxBits)
    {
        var trivial = BigInteger.Abs(init) <= 1;
        BigInteger bits = init.GetBitLength() + 1;
        foreach (var text in terms)
        {
            if (trivial)
            {
                continue; // No term needs reading: 0, 1 and -1 raised to anything stay one of them.
            }

            var exponent = BigInteger.Abs(BigInteger.Parse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture));
            if (exponent.IsZero)
            {
                trivial = true;
                continue;
            }

            bits *= exponent;
            if (bits > maxBits)
            {
                return null;
            }
        }

        return trivial ? 1 : bits;
    }
}
