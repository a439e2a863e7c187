namespace Calc.Jobs.Domain;

/// <summary>
/// Distributes a budget over the days a job is online, exactly, in whole cents. The rule: every day gets
/// ⌊budget ÷ days⌋ cents, and the first <c>budget mod days</c> days get one cent more. So the amounts differ by at most
/// one cent, an earlier day never gets less than a later one, and they always sum to the budget.
/// Example: 100.00 over 3 days is 33.34, 33.33, 33.33.
/// </summary>
internal static class BudgetDistribution
{
    /// <summary>Largest budget accepted, in cents (one trillion currency units).</summary>
    public const long MaxBudgetCents = 100_000_000_000_000;

    public static long[] Distribute(long budgetCents, int days)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(budgetCents);
        ArgumentOutOfRangeException.ThrowIfLessThan(days, 1);
        var share = Math.DivRem(budgetCents, days, out var remainder);
        var parts = new long[days];
        for (var day = 0; day < days; day++)
        {
            parts[day] = share + (day < remainder ? 1 : 0);
        }

        return parts;
    }

    /// <summary>Reads an amount with at most two decimals as whole cents; false for more decimals or out of range.</summary>
    public static bool TryToCents(decimal amount, out long cents)
    {
        cents = 0;
        var scaled = amount * 100m;
        if (scaled != decimal.Truncate(scaled) || scaled <= 0 || scaled > MaxBudgetCents)
        {
            return false;
        }

        cents = (long)scaled;
        return true;
    }

    /// <summary>Cents as an amount with exactly two decimals (serialized as e.g. <c>33.30</c>).</summary>
    public static decimal FromCents(long cents)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(cents);
        // Scale 2 keeps the trailing zero: 3330 cents is 33.30, not 33.3.
        return new decimal(unchecked((int)cents), (int)(cents >> 32), 0, isNegative: false, scale: 2);
    }
}
