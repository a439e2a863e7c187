using Calc.Testing;

namespace Calc.Core.Tests.Testing;

/// <summary>The tests' one wait-and-poll helper (tests/Calc.Testing): it must return what it waited for, and fail loudly.</summary>
public sealed class EventuallyTests
{
    [Fact]
    public async Task Returns_the_first_value_the_condition_accepts()
    {
        var polls = 0;

        var value = await Eventually.ValueAsync(() => Task.FromResult(++polls), n => n >= 3, TimeSpan.FromSeconds(30), "the third poll",
            every: TimeSpan.FromMilliseconds(1));

        value.ShouldBe(3);
        polls.ShouldBe(3);
    }

    [Fact]
    public async Task Fails_after_the_deadline_naming_what_it_waited_for_and_the_last_value_seen()
    {
        var polls = 0;

        var error = await Should.ThrowAsync<TimeoutException>(() => Eventually.ValueAsync(() => Task.FromResult(++polls), _ => false,
            TimeSpan.FromMilliseconds(50), "the impossible", n => $"poll number {n}", TimeSpan.FromMilliseconds(5)));

        error.Message.ShouldContain("the impossible");
        error.Message.ShouldContain($"poll number {polls}");
    }

    [Fact]
    public async Task A_condition_that_is_true_at_once_is_polled_once()
    {
        var polls = 0;

        await Eventually.TrueAsync(() => ++polls > 0, TimeSpan.FromSeconds(30), "anything");

        polls.ShouldBe(1);
    }

    [Fact]
    public async Task The_context_is_read_only_when_it_fails()
    {
        var contextReads = 0;

        await Eventually.TrueAsync(() => true, TimeSpan.FromSeconds(30), "anything", () => $"read {++contextReads}");
        var error = await Should.ThrowAsync<TimeoutException>(() =>
            Eventually.TrueAsync(() => false, TimeSpan.FromMilliseconds(20), "nothing", () => $"read {++contextReads}", TimeSpan.FromMilliseconds(5)));

        contextReads.ShouldBe(1);
        error.Message.ShouldContain("read 1");
    }
}
