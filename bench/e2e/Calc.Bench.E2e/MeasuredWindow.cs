using System.Diagnostics;

namespace Calc.Bench.E2e;

/// <summary>
/// The measured window: counts what happens between <see cref="Begin"/> and <see cref="End"/>; a calculation counts
/// when it finishes inside it. Latencies are kept per finished calculation (a 15 s window at a few thousand a second
/// is a few hundred kB).
/// </summary>
internal sealed class MeasuredWindow
{
    private readonly Lock _gate = new();
    private readonly List<double> _latenciesMs = new(capacity: 1 << 16);
    private readonly Stopwatch _clock = new();
    private volatile bool _measuring;
    private volatile bool _ended;
    private long _busy503;
    private long _gets;
    private long _errors;

    public bool Ended => _ended;

    public TimeSpan Elapsed => _clock.Elapsed;

    public int Calculations
    {
        get
        {
            lock (_gate)
            {
                return _latenciesMs.Count;
            }
        }
    }

    public long Busy503 => Interlocked.Read(ref _busy503);

    public long Gets => Interlocked.Read(ref _gets);

    public long Errors => Interlocked.Read(ref _errors);

    public List<string> ErrorSamples { get; } = [];

    public void Begin()
    {
        _clock.Start();
        _measuring = true;
    }

    public void End()
    {
        _measuring = false;
        _clock.Stop();
        _ended = true;
    }

    public void CountBusy503()
    {
        if (_measuring)
        {
            Interlocked.Increment(ref _busy503);
        }
    }

    public void CountGet()
    {
        if (_measuring)
        {
            Interlocked.Increment(ref _gets);
        }
    }

    public void Finished(Outcome outcome, TimeSpan latency)
    {
        if (!_measuring)
        {
            return;
        }

        lock (_gate)
        {
            if (outcome.Done)
            {
                _latenciesMs.Add(latency.TotalMilliseconds);
            }
            else
            {
                Interlocked.Increment(ref _errors);
                if (ErrorSamples.Count < 5)
                {
                    ErrorSamples.Add(outcome.Error ?? "?");
                }
            }
        }
    }

    public double LatencyPercentile(double quantile)
    {
        lock (_gate)
        {
            if (_latenciesMs.Count == 0)
            {
                return double.NaN;
            }

            var sorted = _latenciesMs.Order().ToArray();
            return sorted[Math.Clamp((int)Math.Ceiling(quantile * sorted.Length) - 1, 0, sorted.Length - 1)];
        }
    }
}
