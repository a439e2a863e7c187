using Calc.Core.Scheduling;

namespace Calc.Core.Tests.Scheduling;

public sealed class WorkLaneTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_lane_lets_in_at_most_its_bound_and_counts_who_waits_until_a_place_is_freed()
    {
        using var lane = new WorkLane("io", 2);
        var first = await lane.EnterAsync(Token);
        var second = await lane.EnterAsync(Token);

        var third = lane.EnterAsync(Token);
        await Task.Delay(50, Token);

        third.IsCompleted.ShouldBeFalse();
        lane.Snapshot().ShouldBe(new LaneSnapshot(2, 2, 1));

        first.Dispose();
        first.Dispose(); // leaving twice frees one place only
        using var entered = await third.WaitAsync(TimeSpan.FromSeconds(10), Token);
        lane.Snapshot().ShouldBe(new LaneSnapshot(2, 2, 0));
        second.Dispose();
        lane.Snapshot().InUse.ShouldBe(1);
    }

    [Fact]
    public async Task Cpu_work_runs_off_the_caller_and_a_cancelled_wait_leaves_the_lane_unchanged()
    {
        using var lane = new WorkLane("cpu", 1);
        var result = await lane.RunAsync(() => Enumerable.Range(1, 10).Sum(), Token);
        result.ShouldBe(55);

        using var held = await lane.EnterAsync(Token);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await Should.ThrowAsync<OperationCanceledException>(() => lane.RunAsync(() => 1, cancel.Token));
        lane.Snapshot().ShouldBe(new LaneSnapshot(1, 1, 0));
    }
}
