using Calc.Contracts;
using Calc.Scheduling;

namespace Calc.Core.Tests.Contracts;

public sealed class WireNamesTests
{
    [Fact]
    public void Names_are_the_snake_case_the_JSON_writes()
    {
        WireNames<CalculationStatus>.Of(CalculationStatus.TimedOut).ShouldBe("timed_out");
        WireNames<CalculationStatus>.All.ShouldBe(["building", "processing", "done", "failed", "timed_out", "cancelled"]);
        WireNames<WorkPriority>.All.ShouldBe(["normal", "high"]);
    }

    [Theory]
    [InlineData("factorial", CalculationType.Factorial)]
    [InlineData("FACTORIAL", CalculationType.Factorial)]
    [InlineData("Division", CalculationType.Division)]
    public void Parsing_ignores_case(string name, CalculationType expected)
    {
        WireNames<CalculationType>.TryParse(name, out var value).ShouldBeTrue();
        value.ShouldBe(expected);
        WireNames<CalculationType>.Parse(name).ShouldBe(expected);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("modulo")]
    [InlineData("timedout")]
    public void Unknown_names_are_rejected(string? name)
    {
        WireNames<CalculationStatus>.TryParse(name, out _).ShouldBeFalse();
    }

    [Fact]
    public void Counts_list_every_name_with_zero_where_absent()
    {
        var counts = WireNames<CalculationStatus>.WithCounts(new Dictionary<string, long> { ["done"] = 3 });

        counts.Keys.ShouldBe(WireNames<CalculationStatus>.All);
        counts["done"].ShouldBe(3);
        counts["timed_out"].ShouldBe(0);
    }
}
