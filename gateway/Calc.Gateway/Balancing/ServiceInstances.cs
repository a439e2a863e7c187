namespace Calc.Gateway.Balancing;

/// <summary>A service's instances at one moment (an immutable array, replaced on change) and its round-robin turn.</summary>
internal sealed class ServiceInstances(string name)
{
    private int _turn = -1;

    public string Name { get; } = name;

    public UpstreamInstance[] Instances { get; set; } = [];

    public int NextTurn() => Interlocked.Increment(ref _turn);
}
