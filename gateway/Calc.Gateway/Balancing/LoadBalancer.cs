using Microsoft.Extensions.Options;

namespace Calc.Gateway.Balancing;

/// <summary>
/// Picks the instance for one attempt among those whose breaker lets calls through and that this request has not
/// tried yet: round-robin, or power of two choices (two random candidates, the lower <see cref="UpstreamInstance.Score"/>
/// wins), which avoids both a saturated instance and the herd that "always the least loaded" sends to one instance
/// between two load reports.
/// </summary>
internal sealed class LoadBalancer(IOptions<BalancingOptions> options)
{
    private const int MaxStackCandidates = 128;

    private readonly BalancingMode _mode = options.Value.Mode;

    public UpstreamInstance? Pick(ServiceInstances service, ReadOnlySpan<UpstreamInstance?> tried)
    {
        var instances = service.Instances;
        if (instances.Length == 0)
        {
            return null;
        }

        if (_mode == BalancingMode.RoundRobin)
        {
            var start = (int)((uint)service.NextTurn() % (uint)instances.Length);
            for (var i = 0; i < instances.Length; i++)
            {
                var candidate = instances[(start + i) % instances.Length];
                if (IsCandidate(candidate, tried))
                {
                    return candidate;
                }
            }

            return null;
        }

        Span<int> candidates = instances.Length <= MaxStackCandidates ? stackalloc int[instances.Length] : new int[instances.Length];
        var count = 0;
        for (var i = 0; i < instances.Length; i++)
        {
            if (IsCandidate(instances[i], tried))
            {
                candidates[count++] = i;
            }
        }

        switch (count)
        {
            case 0:
                return null;
            case 1:
                return instances[candidates[0]];
        }

        var first = Random.Shared.Next(count);
        var second = Random.Shared.Next(count - 1);
        if (second >= first)
        {
            second++;
        }

        var a = instances[candidates[first]];
        var b = instances[candidates[second]];
        return b.Score < a.Score ? b : a;
    }

    private static bool IsCandidate(UpstreamInstance instance, ReadOnlySpan<UpstreamInstance?> tried)
    {
        if (!instance.IsAvailable)
        {
            return false;
        }

        foreach (var t in tried)
        {
            if (ReferenceEquals(t, instance))
            {
                return false;
            }
        }

        return true;
    }
}
