namespace Calc.Core.Scheduling;

/// <summary>What a running task gets: its id, a token that fires when it must stop, and why it must stop.</summary>
public sealed class WorkContext : IDisposable
{
    private readonly CancellationTokenSource _stop;
    private Action? _releaseSlot;
    private int _reason;

    internal WorkContext(string workId, WorkPriority priority, TimeProvider time)
    {
        WorkId = workId;
        Priority = priority;
        _stop = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
    }

    /// <summary>The task's id.</summary>
    public string WorkId { get; }

    /// <summary>The priority it runs at.</summary>
    public WorkPriority Priority { get; }

    /// <summary>Cancelled when the task must stop: timeout, user cancellation or shutdown.</summary>
    public CancellationToken CancellationToken => _stop.Token;

    /// <summary>Why the task was asked to stop; <see cref="StopReason.None"/> while it may run on.</summary>
    public StopReason StopReason => (StopReason)Volatile.Read(ref _reason);

    /// <summary>
    /// Gives the task's slot back now, before the task ends, for a task whose remaining part (recording its outcome)
    /// needs no slot: the slot then bounds the work itself, not the writes around it. The task stays running for
    /// everything else (<see cref="WorkScheduler.IsRunning"/>, <see cref="WorkScheduler.RunningIds"/>,
    /// <see cref="WorkScheduler.Stop"/>, and <see cref="WorkScheduler.ShutdownAsync"/> waits for it) until it ends.
    /// Calling it again, or not at all, is fine: the slot is given back once, at the latest when the task ends.
    /// </summary>
    public void ReleaseSlot() => Interlocked.Exchange(ref _releaseSlot, null)?.Invoke();

    internal void HoldSlot(Action release) => _releaseSlot = release;

    internal void StopAfter(TimeSpan timeout)
    {
        if (timeout == Timeout.InfiniteTimeSpan)
        {
            return;
        }

        _stop.Token.UnsafeRegister(static state => ((WorkContext)state!).SetReason(StopReason.TimedOut), this);
        // The registration above sets TimedOut only if no other reason was recorded first (see SetReason).
        _stop.CancelAfter(timeout);
    }

    internal void RequestStop(StopReason reason)
    {
        SetReason(reason);
        try
        {
            _stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The task ended meanwhile: nothing left to stop.
        }
    }

    private void SetReason(StopReason reason) => Interlocked.CompareExchange(ref _reason, (int)reason, (int)StopReason.None);

    /// <inheritdoc />
    public void Dispose() => _stop.Dispose();
}
