namespace Calc.Core.Scheduling;

/// <summary>
/// A slot taken from a <see cref="WorkScheduler"/>. Start a task on it, or dispose it to give the slot back.
/// </summary>
public sealed class WorkSlot : IDisposable
{
    private readonly WorkScheduler _scheduler;
    private int _state; // 0 held, 1 started, 2 released

    internal WorkSlot(WorkScheduler scheduler, WorkPriority priority)
    {
        _scheduler = scheduler;
        Priority = priority;
    }

    /// <summary>The priority the slot was taken for.</summary>
    public WorkPriority Priority { get; }

    /// <summary>
    /// Runs <paramref name="work"/> on this slot in the background. Its <see cref="WorkContext.CancellationToken"/> is
    /// cancelled after <paramref name="timeout"/>, on <see cref="WorkScheduler.Stop"/> and on shutdown; the slot is
    /// freed when the work ends. Returns a task that completes when the work has ended.
    /// </summary>
    public Task Start(string workId, TimeSpan timeout, Func<WorkContext, Task> work)
    {
        ArgumentException.ThrowIfNullOrEmpty(workId);
        ArgumentNullException.ThrowIfNull(work);
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0)
        {
            throw new InvalidOperationException("This slot was already started or released.");
        }

        return _scheduler.Start(this, workId, timeout, work);
    }

    /// <summary>Gives the slot back if no work was started on it.</summary>
    public void Dispose()
    {
        if (Interlocked.CompareExchange(ref _state, 2, 0) == 0)
        {
            _scheduler.Release(Priority);
        }
    }
}
