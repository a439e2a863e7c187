using Calc.Core.Contracts;
using Calc.Core.Scheduling;

namespace Calc.Core.Tests.Contracts;

public sealed class WireNamesTests
{
    /// <summary>An enum of the shape the services' statuses and types have (the services' own enums live with them).</summary>
    public enum Phase
    {
        Building,
        Processing,
        Done,
        TimedOut,
    }

    [Fact]
    public void Names_are_the_snake_case_the_JSON_writes()
    {
        WireNames<Phase>.Of(Phase.TimedOut).ShouldBe("timed_out");
        WireNames<Phase>.All.ShouldBe(["building", "processing", "done", "timed_out"]);
        WireNames<WorkPriority>.All.ShouldBe(["normal", "high"]);
    }

    [Theory]
    [InlineData("processing", Phase.Processing)]
    [InlineData("PROCESSING", Phase.Processing)]
    [InlineData("Timed_Out", Phase.TimedOut)]
    public void Parsing_ignores_case(string name, Phase expected)
    {
        WireNames<Phase>.TryParse(name, out var value).ShouldBeTrue();
        value.ShouldBe(expected);
        WireNames<Phase>.Parse(name).ShouldBe(expected);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("modulo")]
    [InlineData("timedout")]
    public void Unknown_names_are_rejected(string? name)
    {
        WireNames<Phase>.TryParse(name, out _).ShouldBeFalse();
    }

    [Fact]
    public void Counts_list_every_name_with_zero_where_absent()
    {
        var counts = WireNames<Phase>.WithCounts(new Dictionary<string, long> { ["done"] = 3 });

        counts.Keys.ShouldBe(WireNames<Phase>.All);
        counts["done"].ShouldBe(3);
        counts["timed_out"].ShouldBe(0);
    }
}
