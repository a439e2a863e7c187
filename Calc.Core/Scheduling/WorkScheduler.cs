using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Calc.Core.Scheduling;

/// <summary>
/// Runs tasks with bounded concurrency: at most <see cref="CapacityOptions.Slots"/> at once, of which
/// <see cref="CapacityOptions.ReservedHigh"/> are kept for high-priority tasks. There is no queue: a task that cannot
/// get a slot is refused at once (<see cref="TryAcquire"/> returns null), so callers answer 503 instead of letting
/// work pile up. Each started task gets a timeout and can be cancelled; its slot is freed when it ends, or earlier
/// when the task gives it back (<see cref="WorkContext.ReleaseSlot"/>).
/// </summary>
/// <remarks>
/// Admission is two-phase so that callers can record a task durably between taking a slot and starting it:
/// <see cref="TryAcquire"/> reserves a slot, <see cref="WorkSlot.Start"/> runs the task on it, and disposing a slot
/// that was never started gives it back.
/// </remarks>
public sealed partial class WorkScheduler : IDisposable
{
    /// <summary>The meter of the scheduler's and the lanes' metrics.</summary>
    internal const string MeterName = "Calc.Scheduling";

    private readonly Lock _gate = new();
    private readonly ConcurrentDictionary<string, RunningWork> _running = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly ILogger<WorkScheduler> _logger;
    private readonly int _slots;
    private readonly int _reservedHigh;
    private readonly Histogram<double>? _queueTime;
    private int _processing;
    private int _processingHigh;
    private bool _shuttingDown;

    /// <summary>Creates a scheduler with the configured capacity.</summary>
    /// <param name="options">The capacity.</param>
    /// <param name="time">The clock.</param>
    /// <param name="logger">The logger.</param>
    /// <param name="meters">Where <c>calc.scheduler.queue.duration</c> is recorded (none when null).</param>
    public WorkScheduler(IOptions<CapacityOptions> options, TimeProvider time, ILogger<WorkScheduler> logger, IMeterFactory? meters = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _slots = options.Value.Slots;
        _reservedHigh = options.Value.ReservedHigh;
        _time = time;
        _logger = logger;
        _queueTime = meters?.Create(MeterName).CreateHistogram<double>(
            "calc.scheduler.queue.duration", "s", "Time a task waited for a work slot, by priority (work that waits instead of being refused: queue deliveries).");
    }

    /// <summary>The load now.</summary>
    public CapacitySnapshot Snapshot()
    {
        lock (_gate)
        {
            return new CapacitySnapshot(_slots, _reservedHigh, _processing, _processingHigh);
        }
    }

    /// <summary>Ids of the tasks running now.</summary>
    public IReadOnlyCollection<string> RunningIds => [.. _running.Keys];

    /// <summary>True while the task with this id runs on this instance.</summary>
    public bool IsRunning(string workId) => _running.ContainsKey(workId);

    /// <summary>
    /// Takes a slot for a task of the given priority, or returns null at once when none is free for it
    /// (a normal task never takes one of the reserved slots) or the instance is shutting down.
    /// </summary>
    public WorkSlot? TryAcquire(WorkPriority priority)
    {
        lock (_gate)
        {
            var limit = priority == WorkPriority.High ? _slots : _slots - _reservedHigh;
            if (_shuttingDown || _processing >= limit)
            {
                return null;
            }

            _processing++;
            if (priority == WorkPriority.High)
            {
                _processingHigh++;
            }
        }

        return new WorkSlot(this, priority);
    }

    /// <summary>
    /// Waits for a slot for a task of the given priority, trying every <paramref name="poll"/>, for work that must
    /// wait rather than be refused (a queue delivery already taken off the queue). The wait is recorded as
    /// <c>calc.scheduler.queue.duration</c>. Returns null when <paramref name="cancellationToken"/> ends the wait.
    /// </summary>
    public async Task<WorkSlot?> WaitForSlotAsync(WorkPriority priority, TimeSpan poll, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        while (!cancellationToken.IsCancellationRequested)
        {
            if (TryAcquire(priority) is { } slot)
            {
                _queueTime?.Record(_time.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("calc.priority", PriorityName(priority)));
                return slot;
            }

            try
            {
                await Task.Delay(poll, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return null;
    }

    /// <summary>The priority as metrics name it (<c>calc.priority</c>).</summary>
    internal static string PriorityName(WorkPriority priority) => priority == WorkPriority.High ? "high" : "normal";

    /// <summary>Asks a running task to stop with the given reason. Returns false when it is not running here.</summary>
    public bool Stop(string workId, StopReason reason)
    {
        if (!_running.TryGetValue(workId, out var work))
        {
            return false;
        }

        work.Context.RequestStop(reason);
        return true;
    }

    /// <summary>
    /// Refuses new tasks and asks every running one to stop with <see cref="StopReason.Shutdown"/>, then waits for
    /// them to end, at most <paramref name="wait"/>.
    /// </summary>
    public async Task ShutdownAsync(TimeSpan wait)
    {
        lock (_gate)
        {
            _shuttingDown = true;
        }

        var running = _running.Values.ToArray();
        foreach (var work in running)
        {
            work.Context.RequestStop(StopReason.Shutdown);
        }

        await Task.WhenAny(Task.WhenAll(running.Select(w => w.Completion)), Task.Delay(wait, _time));
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var work in _running.Values)
        {
            work.Context.RequestStop(StopReason.Shutdown);
        }
    }

    internal Task Start(WorkSlot slot, string workId, TimeSpan timeout, Func<WorkContext, Task> work)
    {
        var context = new WorkContext(workId, slot.Priority, _time);
        var completion = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_running.TryAdd(workId, new RunningWork(context, completion.Task)))
        {
            Release(slot.Priority);
            context.Dispose();
            throw new InvalidOperationException($"Work '{workId}' is already running on this instance.");
        }

        context.HoldSlot(() => Release(slot.Priority));
        context.StopAfter(timeout);
        _ = Task.Run(async () =>
        {
            try
            {
                await work(context);
            }
            catch (Exception ex)
            {
                // The task's own code records its outcome; reaching here is a bug in it, never a reason to leak the slot.
                LogUnhandled(_logger, ex, workId);
            }
            finally
            {
                _running.TryRemove(workId, out _);
                context.ReleaseSlot();
                context.Dispose();
                completion.SetResult();
            }
        });
        return completion.Task;
    }

    internal void Release(WorkPriority priority)
    {
        lock (_gate)
        {
            _processing--;
            if (priority == WorkPriority.High)
            {
                _processingHigh--;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Work {WorkId} threw instead of recording its outcome")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string workId);

    private sealed record RunningWork(WorkContext Context, Task Completion);
}
