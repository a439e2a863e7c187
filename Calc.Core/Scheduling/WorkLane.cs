using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Calc.Core.Scheduling;

/// <summary>
/// A bounded lane of work: at most <see cref="Bound"/> callers inside at once, the others wait their turn (in order).
/// Unlike <see cref="WorkScheduler"/>, which refuses a task without capacity, a lane makes admitted work wait for a
/// kind of resource (cores, outgoing connections); the wait is bounded by the admitted work itself.
/// </summary>
public sealed class WorkLane : IDisposable
{
    private readonly SemaphoreSlim _gate;
    private readonly Histogram<double>? _waitTime;
    private readonly KeyValuePair<string, object?> _laneTag;
    private int _waiting;

    /// <summary>Creates a lane.</summary>
    /// <param name="name">What it is for (<c>cpu</c>, <c>io</c>).</param>
    /// <param name="bound">How many may be inside at once, 1 or more.</param>
    public WorkLane(string name, int bound)
        : this(name, bound, waitTime: null)
    {
    }

    internal WorkLane(string name, int bound, Histogram<double>? waitTime)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bound, 1);
        Name = name;
        Bound = bound;
        _gate = new SemaphoreSlim(bound, bound);
        _waitTime = waitTime;
        _laneTag = new("calc.lane", name);
    }

    /// <summary>What the lane is for.</summary>
    public string Name { get; }

    /// <summary>How many may be inside at once.</summary>
    public int Bound { get; }

    /// <summary>The lane's use now.</summary>
    public LaneSnapshot Snapshot() => new(Bound, Bound - _gate.CurrentCount, Volatile.Read(ref _waiting));

    /// <summary>Waits for a place in the lane; dispose the result to leave it.</summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    public async Task<IDisposable> EnterAsync(CancellationToken cancellationToken = default)
    {
        // The clock is read only while someone listens to the histogram.
        var started = _waitTime is { Enabled: true } ? Stopwatch.GetTimestamp() : 0;
        Interlocked.Increment(ref _waiting);
        try
        {
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }

        if (started != 0)
        {
            _waitTime!.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, _laneTag);
        }

        return new Place(_gate);
    }

    /// <summary>Runs <paramref name="work"/> on a thread-pool thread once the lane has room (for CPU-bound work).</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="work">The work; it should observe <paramref name="cancellationToken"/>.</param>
    /// <param name="cancellationToken">Stops waiting, and is passed to the work.</param>
    public async Task<T> RunAsync<T>(Func<T> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        using (await EnterAsync(cancellationToken).ConfigureAwait(false))
        {
            return await Task.Run(work, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Runs asynchronous <paramref name="work"/> once the lane has room (for I/O-bound work).</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="work">The work.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    public async Task<T> RunAsync<T>(Func<Task<T>> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        using (await EnterAsync(cancellationToken).ConfigureAwait(false))
        {
            return await work().ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public void Dispose() => _gate.Dispose();

    private sealed class Place(SemaphoreSlim gate) : IDisposable
    {
        private SemaphoreSlim? _gate = gate;

        public void Dispose() => Interlocked.Exchange(ref _gate, null)?.Release();
    }
}

/// <summary>A lane's use at one moment.</summary>
/// <param name="Bound">How many may be inside at once.</param>
/// <param name="InUse">How many are inside now.</param>
/// <param name="Waiting">How many wait to enter.</param>
public sealed record LaneSnapshot(int Bound, int InUse, int Waiting);
