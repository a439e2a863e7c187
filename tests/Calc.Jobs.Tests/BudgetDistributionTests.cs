using Calc.Jobs.Domain;

namespace Calc.Jobs.Tests;

public sealed class BudgetDistributionTests
{
    [Theory]
    [InlineData(10000, 3, new long[] { 3334, 3333, 3333 })]
    [InlineData(100, 1, new long[] { 100 })]
    [InlineData(2, 5, new long[] { 1, 1, 0, 0, 0 })]
    [InlineData(700, 7, new long[] { 100, 100, 100, 100, 100, 100, 100 })]
    public void The_remainder_cents_go_to_the_earliest_days(long budgetCents, int days, long[] expected) =>
        BudgetDistribution.Distribute(budgetCents, days).ShouldBe(expected);

    [Fact]
    public void The_parts_always_sum_to_the_budget_and_differ_by_at_most_one_cent()
    {
        var random = new Random(20261122);
        for (var i = 0; i < 2000; i++)
        {
            var cents = random.NextInt64(1, BudgetDistribution.MaxBudgetCents);
            var days = random.Next(1, 3651);
            var parts = BudgetDistribution.Distribute(cents, days);
            parts.Sum().ShouldBe(cents);
            (parts.Max() - parts.Min()).ShouldBeLessThanOrEqualTo(1);
        }
    }

    [Theory]
    [InlineData("100", true, 10000)]
    [InlineData("0.01", true, 1)]
    [InlineData("33.30", true, 3330)]
    [InlineData("1.234", false, 0)]
    [InlineData("0", false, 0)]
    [InlineData("-5", false, 0)]
    public void Amounts_with_at_most_two_decimals_read_as_exact_cents(string amount, bool valid, long cents)
    {
        BudgetDistribution.TryToCents(decimal.Parse(amount, System.Globalization.CultureInfo.InvariantCulture), out var read).ShouldBe(valid);
        read.ShouldBe(cents);
    }

    [Fact]
    public void Cents_come_back_with_two_decimals() =>
        BudgetDistribution.FromCents(3330).ToString(System.Globalization.CultureInfo.InvariantCulture).ShouldBe("33.30");
}
