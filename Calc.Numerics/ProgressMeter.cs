namespace Calc.Numerics;

/// <summary>
/// Turns estimated work units into whole percentages: reports only increases, never 100 before
/// <see cref="Complete"/>, so a caller sees a monotonic 0..100.
/// </summary>
internal sealed class ProgressMeter
{
    private readonly IProgress<int>? _progress;
    private double _total;
    private double _done;
    private int _reported = -1;

    public ProgressMeter(IProgress<int>? progress, double total = 1)
    {
        _progress = progress;
        _total = Math.Max(total, 1e-9);
        if (progress is not null)
        {
            Report(0);
        }
    }

    public bool IsActive => _progress is not null;

    /// <summary>Adds to the planned work (for stages whose size is known only later).</summary>
    public void Plan(double units) => _total += Math.Max(units, 0);

    public void Advance(double units)
    {
        if (_progress is null)
        {
            return;
        }

        _done += Math.Max(units, 0);
        Report((int)Math.Min(99, Math.Floor(_done / _total * 100)));
    }

    public void Complete() => Report(100);

    /// <summary>Estimated cost of multiplying numbers whose product has <paramref name="bits"/> bits.</summary>
    public static double MultiplyCost(double bits) => bits <= 2 ? 1 : bits * Math.Log2(bits);

    private void Report(int percent)
    {
        if (_progress is not null && percent > _reported)
        {
            _reported = percent;
            _progress.Report(percent);
        }
    }
}
