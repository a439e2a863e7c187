using Calc.Contracts;
using Calc.Scheduling;

namespace Calc.Calculations.Domain;

/// <summary>The names the API accepts for types and priorities (case-insensitive).</summary>
internal static class CalculationNames
{
    public static readonly IReadOnlyDictionary<string, CalculationType> Types =
        Enum.GetValues<CalculationType>().ToDictionary(t => t.ToString().ToLowerInvariant(), t => t, StringComparer.OrdinalIgnoreCase);

    public static readonly IReadOnlyDictionary<string, WorkPriority> Priorities =
        Enum.GetValues<WorkPriority>().ToDictionary(p => p.ToString().ToLowerInvariant(), p => p, StringComparer.OrdinalIgnoreCase);

    public static bool IsValidCallbackUrl(string? url) =>
        url is { Length: <= 2048 }
        && Uri.TryCreate(url, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        && !string.IsNullOrEmpty(uri.Host);
}
