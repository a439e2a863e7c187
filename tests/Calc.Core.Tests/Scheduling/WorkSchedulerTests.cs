using Calc.Core.Scheduling;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Shouldly;

namespace Calc.Core.Tests.Scheduling;

public sealed class WorkSchedulerTests
{
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(1);

    private static WorkScheduler Create(int slots, int reservedHigh) => new(
        Options.Create(new CapacityOptions { Slots = slots, ReservedHigh = reservedHigh }),
        TimeProvider.System,
        NullLogger<WorkScheduler>.Instance);

    [Fact]
    public void A_normal_task_cannot_take_a_reserved_slot()
    {
        using var scheduler = Create(slots: 3, reservedHigh: 1);
        using var first = scheduler.TryAcquire(WorkPriority.Normal);
        using var second = scheduler.TryAcquire(WorkPriority.Normal);

        first.ShouldNotBeNull();
        second.ShouldNotBeNull();
        scheduler.TryAcquire(WorkPriority.Normal).ShouldBeNull();
    }

    [Fact]
    public void A_high_priority_task_is_admitted_when_only_reserved_slots_are_free_and_a_normal_one_is_refused()
    {
        using var scheduler = Create(slots: 2, reservedHigh: 1);
        using var normal = scheduler.TryAcquire(WorkPriority.Normal);
        normal.ShouldNotBeNull();

        scheduler.TryAcquire(WorkPriority.Normal).ShouldBeNull();
        using var high = scheduler.TryAcquire(WorkPriority.High);
        high.ShouldNotBeNull();
        scheduler.TryAcquire(WorkPriority.High).ShouldBeNull();

        var snapshot = scheduler.Snapshot();
        snapshot.Processing.ShouldBe(2);
        snapshot.ProcessingHigh.ShouldBe(1);
        snapshot.FreeForHigh.ShouldBe(0);
    }

    [Fact]
    public void Disposing_a_slot_that_was_never_started_gives_it_back()
    {
        using var scheduler = Create(slots: 1, reservedHigh: 0);
        var slot = scheduler.TryAcquire(WorkPriority.Normal);
        slot.ShouldNotBeNull();
        scheduler.TryAcquire(WorkPriority.Normal).ShouldBeNull();

        slot.Dispose();
        slot.Dispose(); // twice changes nothing

        scheduler.Snapshot().Processing.ShouldBe(0);
        using var again = scheduler.TryAcquire(WorkPriority.Normal);
        again.ShouldNotBeNull();
    }

    [Fact]
    public async Task Under_a_burst_never_more_than_the_slots_run_at_once_and_every_slot_is_freed()
    {
        using var scheduler = Create(slots: 4, reservedHigh: 1);
        var running = 0;
        var peak = 0;
        var admitted = 0;
        var refused = 0;
        var completions = new List<Task>();
        var gate = new SemaphoreSlim(0);

        // 200 requests from many threads at once, each task holding its slot until released.
        await Parallel.ForEachAsync(Enumerable.Range(0, 200), new ParallelOptions { MaxDegreeOfParallelism = 16 }, (i, _) =>
        {
            var priority = i % 5 == 0 ? WorkPriority.High : WorkPriority.Normal;
            var slot = scheduler.TryAcquire(priority);
            if (slot is null)
            {
                Interlocked.Increment(ref refused);
                return ValueTask.CompletedTask;
            }

            Interlocked.Increment(ref admitted);
            var completion = slot.Start($"task-{i}", Long, async context =>
            {
                var now = Interlocked.Increment(ref running);
                InterlockedMax(ref peak, now);
                await gate.WaitAsync(context.CancellationToken);
                Interlocked.Decrement(ref running);
            });
            lock (completions)
            {
                completions.Add(completion);
            }

            return ValueTask.CompletedTask;
        });

        admitted.ShouldBeLessThanOrEqualTo(4);
        (admitted + refused).ShouldBe(200);
        gate.Release(admitted);
        await Task.WhenAll(completions).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        peak.ShouldBeLessThanOrEqualTo(4);
        scheduler.Snapshot().Processing.ShouldBe(0);
        scheduler.Snapshot().ProcessingHigh.ShouldBe(0);
    }

    [Fact]
    public async Task A_task_past_its_timeout_is_cancelled_with_reason_timed_out_and_frees_its_slot()
    {
        using var scheduler = Create(slots: 1, reservedHigh: 0);
        var reason = StopReason.None;
        var slot = scheduler.TryAcquire(WorkPriority.Normal)!;

        await slot.Start("slow", TimeSpan.FromMilliseconds(100), async context =>
        {
            try
            {
                await Task.Delay(Long, context.CancellationToken);
            }
            catch (OperationCanceledException)
            {
                reason = context.StopReason;
            }
        }).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        reason.ShouldBe(StopReason.TimedOut);
        scheduler.Snapshot().Processing.ShouldBe(0);
    }

    [Fact]
    public async Task Stop_cancels_a_running_task_with_the_given_reason()
    {
        using var scheduler = Create(slots: 2, reservedHigh: 0);
        var started = new TaskCompletionSource();
        var reason = StopReason.None;
        var completion = scheduler.TryAcquire(WorkPriority.Normal)!.Start("job", Long, async context =>
        {
            started.SetResult();
            try
            {
                await Task.Delay(Long, context.CancellationToken);
            }
            catch (OperationCanceledException)
            {
                reason = context.StopReason;
            }
        });
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        scheduler.IsRunning("job").ShouldBeTrue();

        scheduler.Stop("job", StopReason.Cancelled).ShouldBeTrue();
        await completion.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        reason.ShouldBe(StopReason.Cancelled);
        scheduler.IsRunning("job").ShouldBeFalse();
        scheduler.Stop("job", StopReason.Cancelled).ShouldBeFalse();
    }

    [Fact]
    public async Task A_task_that_throws_still_frees_its_slot()
    {
        using var scheduler = Create(slots: 1, reservedHigh: 0);
        await scheduler.TryAcquire(WorkPriority.Normal)!
            .Start("broken", Long, _ => throw new InvalidOperationException("bug"))
            .WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        scheduler.Snapshot().Processing.ShouldBe(0);
    }

    [Fact]
    public async Task Shutdown_stops_running_tasks_with_reason_shutdown_and_refuses_new_ones()
    {
        using var scheduler = Create(slots: 2, reservedHigh: 0);
        var started = new TaskCompletionSource();
        var reason = StopReason.None;
        _ = scheduler.TryAcquire(WorkPriority.Normal)!.Start("running", Long, async context =>
        {
            started.SetResult();
            try
            {
                await Task.Delay(Long, context.CancellationToken);
            }
            catch (OperationCanceledException)
            {
                reason = context.StopReason;
            }
        });
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        await scheduler.ShutdownAsync(TimeSpan.FromSeconds(10));

        reason.ShouldBe(StopReason.Shutdown);
        scheduler.TryAcquire(WorkPriority.High).ShouldBeNull();
    }

    [Fact]
    public async Task A_slot_given_back_by_its_task_admits_new_work_while_the_task_still_counts_as_running()
    {
        using var scheduler = Create(slots: 1, reservedHigh: 0);
        var released = new TaskCompletionSource();
        var finish = new TaskCompletionSource();
        var ended = scheduler.TryAcquire(WorkPriority.Normal)!.Start("writing", Long, async context =>
        {
            context.ReleaseSlot();
            context.ReleaseSlot(); // twice gives back one slot only
            released.SetResult();
            await finish.Task;
        });
        await released.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        scheduler.Snapshot().Processing.ShouldBe(0);
        scheduler.IsRunning("writing").ShouldBeTrue();
        scheduler.RunningIds.ShouldBe(["writing"]);
        using (var next = scheduler.TryAcquire(WorkPriority.Normal))
        {
            next.ShouldNotBeNull();
            scheduler.TryAcquire(WorkPriority.Normal).ShouldBeNull();
        }

        finish.SetResult();
        await ended.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        // The end of the task gives back nothing more: the count does not go below zero.
        scheduler.Snapshot().Processing.ShouldBe(0);
        scheduler.IsRunning("writing").ShouldBeFalse();
        using var one = scheduler.TryAcquire(WorkPriority.Normal);
        one.ShouldNotBeNull();
        scheduler.TryAcquire(WorkPriority.Normal).ShouldBeNull();
    }

    [Fact]
    public async Task Shutdown_waits_for_a_task_that_gave_its_slot_back_and_is_still_recording_its_outcome()
    {
        using var scheduler = Create(slots: 1, reservedHigh: 0);
        var released = new TaskCompletionSource();
        var recorded = false;
        _ = scheduler.TryAcquire(WorkPriority.Normal)!.Start("recording", Long, async context =>
        {
            context.ReleaseSlot();
            released.SetResult();
            await Task.Delay(TimeSpan.FromMilliseconds(300), CancellationToken.None);
            recorded = true;
        });
        await released.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        await scheduler.ShutdownAsync(TimeSpan.FromSeconds(30));

        recorded.ShouldBeTrue();
    }

    [Fact]
    public void Reserving_every_slot_for_high_priority_is_rejected_by_validation()
    {
        var options = new CapacityOptions { Slots = 2, ReservedHigh = 2 };
        var errors = options.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(options)).ToList();

        errors.ShouldHaveSingleItem().ErrorMessage.ShouldNotBeNull().ShouldContain("Capacity:ReservedHigh");
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while (value > (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}
