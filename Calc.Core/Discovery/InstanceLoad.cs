using System.Globalization;

namespace Calc.Core.Discovery;

/// <summary>How much of an instance's capacity is in use: what heartbeats and the load header report.</summary>
/// <param name="Capacity">Tasks the instance processes at once, at most.</param>
/// <param name="Processing">Tasks it is processing now.</param>
public readonly record struct InstanceLoad(int Capacity, int Processing)
{
    /// <summary>The response header every service adds with its load, as <c>processing/capacity</c> (e.g. <c>3/8</c>).</summary>
    public const string HeaderName = "X-Calc-Load";

    /// <summary>Load between 0 and 1 (1 when there is no capacity at all).</summary>
    public double Load => Capacity <= 0 ? 1 : Math.Clamp((double)Processing / Capacity, 0, 1);

    /// <summary>The header form, <c>processing/capacity</c>.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Processing}/{Capacity}");

    /// <summary>Parses the header form <c>processing/capacity</c>; false for anything else.</summary>
    /// <param name="value">The header value.</param>
    /// <param name="load">The parsed load.</param>
    public static bool TryParse(ReadOnlySpan<char> value, out InstanceLoad load)
    {
        load = default;
        var slash = value.IndexOf('/');
        if (slash <= 0
            || !int.TryParse(value[..slash], NumberStyles.None, CultureInfo.InvariantCulture, out var processing)
            || !int.TryParse(value[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var capacity))
        {
            return false;
        }

        load = new InstanceLoad(capacity, processing);
        return true;
    }
}
