namespace Calc.Numerics.Tests;

/// <summary>Records reports synchronously (Progress&lt;T&gt; posts them to the thread pool, out of order).</summary>
internal sealed class RecordingProgress : IProgress<int>
{
    private readonly List<int> _values = [];

    public IReadOnlyList<int> Values
    {
        get
        {
            lock (_values)
            {
                return [.. _values];
            }
        }
    }

    public void Report(int value)
    {
        lock (_values)
        {
            _values.Add(value);
        }
    }

    public void ShouldBeMonotonicAndEndAt100()
    {
        var values = Values;
        values.ShouldNotBeEmpty();
        values[^1].ShouldBe(100);
        values.ShouldAllBe(v => v >= 0 && v <= 100);
        for (var i = 1; i < values.Count; i++)
        {
            values[i].ShouldBeGreaterThan(values[i - 1], $"reports: {string.Join(",", values)}");
        }
    }
}
