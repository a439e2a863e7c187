namespace Calc.Numerics;

/// <summary>
/// Luschny's prime-swing factorial, engine-neutral part: n! = O(n) * 2^(n - popcount(n)) with the odd part
/// O(n) = O(n/2)^2 * S(n), where S(n) is the odd part of the swing n!/((n/2)!)^2. S(n) is read off the primes up to n:
/// p is in S(n) with exponent sum_k (floor(n/p^k) mod 2), and that prime power never exceeds n.
/// </summary>
internal sealed class PrimeSwing
{
    /// <summary>Below this, O(m) is computed directly (the odd part of 20! fits in 64 bits).</summary>
    internal const int DirectLimit = 20;

    private PrimeSwing(int n, ulong[][] swingFactors, int[] levels, ulong smallOddFactorial)
    {
        N = n;
        SwingFactors = swingFactors;
        Levels = levels;
        SmallOddFactorial = smallOddFactorial;
    }

    public int N { get; }

    /// <summary>m = n, n/2, n/4, ... down to the first m &lt;= <see cref="DirectLimit"/>, largest first.</summary>
    public int[] Levels { get; }

    /// <summary>For each level but the last, the factors of S(m) packed into 64-bit words (products of primes).</summary>
    public ulong[][] SwingFactors { get; }

    /// <summary>O(m) of the last (smallest) level.</summary>
    public ulong SmallOddFactorial { get; }

    /// <summary>n - popcount(n): the exponent of 2 in n!.</summary>
    public long TwoExponent => N - System.Numerics.BitOperations.PopCount((uint)N);

    public static PrimeSwing Create(int n, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        var levels = new List<int>();
        for (var m = n; ; m /= 2)
        {
            levels.Add(m);
            if (m <= DirectLimit)
            {
                break;
            }
        }

        var primes = n > DirectLimit ? OddPrimes(n, cancellationToken) : [];
        var factors = new ulong[levels.Count - 1][];
        var packed = new List<ulong>();
        for (var i = 0; i < factors.Length; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            packed.Clear();
            CollectSwingFactors(levels[i], primes, packed);
            factors[i] = [.. packed];
        }

        ulong small = 1;
        for (ulong k = 3; k <= (ulong)levels[^1]; k++)
        {
            small *= k >> System.Numerics.BitOperations.TrailingZeroCount(k);
        }

        return new PrimeSwing(n, factors, [.. levels], small);
    }

    /// <summary>Sum of log2 of the factors: about the bit length of their product.</summary>
    public static double Log2Product(ReadOnlySpan<ulong> factors)
    {
        double bits = 0;
        foreach (var f in factors)
        {
            bits += Math.Log2(f);
        }

        return bits;
    }

    /// <summary>The odd primes up to n, ascending (sieve of Eratosthenes over odd numbers).</summary>
    private static int[] OddPrimes(int n, CancellationToken cancellationToken)
    {
        // composite[i] is true when 2i+1 is composite.
        var composite = new bool[((n - 1) / 2) + 1];
        for (long p = 3; p * p <= n; p += 2)
        {
            if (!composite[p / 2])
            {
                cancellationToken.ThrowIfCancellationRequested();
                for (var q = p * p; q <= n; q += 2 * p)
                {
                    composite[q / 2] = true;
                }
            }
        }

        var primes = new List<int>(n < 100 ? 32 : (int)(1.3 * n / Math.Log(n)));
        for (var i = 1; i < composite.Length; i++)
        {
            if (!composite[i])
            {
                primes.Add((2 * i) + 1);
            }
        }

        return [.. primes];
    }

    private static void CollectSwingFactors(int m, int[] primes, List<ulong> packed)
    {
        ulong word = 1;
        void Add(ulong factor)
        {
            if (word > ulong.MaxValue / factor)
            {
                packed.Add(word);
                word = factor;
            }
            else
            {
                word *= factor;
            }
        }

        var sqrt = (int)Math.Sqrt(m);
        while ((long)sqrt * sqrt > m)
        {
            sqrt--;
        }

        while ((long)(sqrt + 1) * (sqrt + 1) <= m)
        {
            sqrt++;
        }

        // Index of the first prime above a bound, in the ascending list.
        int Above(int bound)
        {
            var index = Array.BinarySearch(primes, bound);
            return index >= 0 ? index + 1 : ~index;
        }

        var end = Above(m);
        var half = Above(m / 2);
        var third = Above(m / 3);
        var root = Above(sqrt);

        // Largest primes first: every one in (m/2, m] has exponent 1.
        for (var i = end - 1; i >= half; i--)
        {
            Add((ulong)primes[i]);
        }

        // sqrt(m) < p <= m/3: p^2 > m, so the exponent is floor(m/p) mod 2.
        for (var i = third - 1; i >= root; i--)
        {
            var p = primes[i];
            if (((m / p) & 1) == 1)
            {
                Add((ulong)p);
            }
        }

        // p <= sqrt(m): the exponent is the sum of floor(m/p^k) mod 2, and p^e <= m.
        for (var i = 0; i < root; i++)
        {
            var p = primes[i];
            ulong power = 1;
            for (var q = m / p; q > 0; q /= p)
            {
                if ((q & 1) == 1)
                {
                    power *= (ulong)p;
                }
            }

            if (power > 1)
            {
                Add(power);
            }
        }

        if (word > 1)
        {
            packed.Add(word);
        }
    }
}
