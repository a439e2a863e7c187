using System.Globalization;
using System.Numerics;

namespace Calc.Numerics;

/// <summary>
/// Subquadratic BigInteger to decimal text: split by 10^(L*2^k), recurse on quotient and (zero-padded) remainder,
/// format leaves of at most L digits with BigInteger itself. With subquadratic division the whole costs
/// O(M(n) log n) against BigInteger.ToString's O(n^2).
/// </summary>
/// <remarks>
/// 10^w = 5^w * 2^w, so x / 10^w is computed as (x &gt;&gt; w) / 5^w: the divisor is 30% shorter, and the remainder is
/// put back together as ((x &gt;&gt; w) mod 5^w) * 2^w + (x mod 2^w).
/// </remarks>
internal static class DecimalFormatter
{
    /// <summary>Digits per leaf.</summary>
    internal const int LeafDigits = 512;

    public static string Format(BigInteger value, ProgressMeter? meter, double plannedWork, CancellationToken cancellationToken)
    {
        var magnitude = BigInteger.Abs(value);
        var bits = magnitude.GetBitLength();
        var powers = new List<BigInteger> { BigInteger.Pow(5, LeafDigits) };

        // powers[k] = 5^(L*2^k) for k < depth, the first depth with 10^(L*2^depth) > |value| (WriteTop's precondition).
        var depth = 1;
        while (BitsBelowTenPower((long)LeafDigits << depth) <= bits)
        {
            depth++;
        }

        // Each level of the tree divides about `bits` bits in all, and squaring up the powers costs about one more.
        var unit = plannedWork > 0 ? plannedWork / (depth + 1) / ProgressMeter.MultiplyCost(bits) : 0;

        for (var k = 1; k < depth; k++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var previous = powers[k - 1];
            powers.Add(previous * previous);
            meter?.Advance(unit * ProgressMeter.MultiplyCost(2.0 * previous.GetBitLength()) / 2);
        }

        var maxDigits = (int)Math.Min(int.MaxValue - 2, Math.Ceiling(bits * Math.Log10(2)) + 2);
        var buffer = new char[maxDigits + 1];
        var position = 0;
        if (value.Sign < 0)
        {
            buffer[position++] = '-';
        }

        var context = new Context(powers, meter, unit, cancellationToken);
        position += context.WriteTop(magnitude, powers.Count - 1, buffer.AsSpan(position));
        return new string(buffer, 0, position);
    }

    /// <summary>A b with 2^b &lt;= 10^digits: any x of at most b bits is below 10^digits.</summary>
    private static long BitsBelowTenPower(long digits) => (long)Math.Floor((digits * Math.Log2(10)) - 1e-6);

    private sealed class Context(List<BigInteger> powers, ProgressMeter? meter, double unit, CancellationToken cancellationToken)
    {
        /// <summary>Writes x without leading zeros; x &lt; 10^(L*2^(k+1)). Returns the number of chars.</summary>
        public int WriteTop(BigInteger x, int k, Span<char> destination)
        {
            // Largest k whose 10^(L*2^k) may still divide x; a wrong guess only costs a division with quotient 0.
            while (k >= 0 && x.GetBitLength() <= BitsBelowTenPower((long)LeafDigits << k))
            {
                k--;
            }

            if (k < 0)
            {
                return WriteLeaf(x, destination);
            }

            var (quotient, remainder) = DivRem(x, k);
            if (quotient.IsZero)
            {
                return WriteTop(remainder, k - 1, destination);
            }

            var written = WriteTop(quotient, k - 1, destination);
            var width = LeafDigits << k;
            WritePadded(remainder, k, destination.Slice(written, width));
            return written + width;
        }

        /// <summary>Writes x &lt; 10^(L*2^k) in exactly L*2^k digits, zero-padded on the left.</summary>
        private void WritePadded(BigInteger x, int k, Span<char> destination)
        {
            if (x.IsZero)
            {
                destination.Fill('0');
                return;
            }

            if (k == 0)
            {
                var written = WriteLeaf(x, destination);
                var padding = destination.Length - written;
                if (padding > 0)
                {
                    destination[..written].CopyTo(destination[padding..]);
                    destination[..padding].Fill('0');
                }

                return;
            }

            var (quotient, remainder) = DivRem(x, k - 1);
            var half = destination.Length / 2;
            WritePadded(quotient, k - 1, destination[..half]);
            WritePadded(remainder, k - 1, destination[half..]);
        }

        /// <summary>(x / 10^w, x mod 10^w) with w = L*2^k, dividing by 5^w only.</summary>
        private (BigInteger Quotient, BigInteger Remainder) DivRem(BigInteger x, int k)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var shift = LeafDigits << k;
            var (quotient, remainder) = BigInteger.DivRem(x >> shift, powers[k]);
            var low = x & ((BigInteger.One << shift) - 1);
            meter?.Advance(unit * ProgressMeter.MultiplyCost(x.GetBitLength()));

            return (quotient, (remainder << shift) | low);
        }

        private static int WriteLeaf(BigInteger x, Span<char> destination) =>
            x.TryFormat(destination, out var written, default, CultureInfo.InvariantCulture)
                ? written
                : throw new InvalidOperationException("Leaf did not fit its buffer.");
    }
}
