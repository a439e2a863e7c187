using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Calc.Core.Contracts;

/// <summary>
/// The names an enum has in the API: snake_case, exactly as the services' JSON writes it (<c>TimedOut</c> →
/// <c>timed_out</c>). One definition for what clients send, what responses show and what stores index on.
/// </summary>
/// <typeparam name="TEnum">The enum.</typeparam>
[SuppressMessage("Design", "CA1000:Do not declare static members on generic types", Justification = "WireNames<CalculationStatus>.Of(...) names the enum once, where it reads best.")]
public static class WireNames<TEnum> where TEnum : struct, Enum
{
    private static readonly Dictionary<TEnum, string> NameOf =
        Enum.GetValues<TEnum>().ToDictionary(v => v, v => JsonNamingPolicy.SnakeCaseLower.ConvertName(v.ToString()));

    private static readonly Dictionary<string, TEnum> ValueOf =
        NameOf.ToDictionary(p => p.Value, p => p.Key, StringComparer.OrdinalIgnoreCase);

    /// <summary>Every name, in declaration order.</summary>
    public static IReadOnlyList<string> All { get; } = [.. NameOf.Values];

    /// <summary>The name of <paramref name="value"/>.</summary>
    public static string Of(TEnum value) => NameOf[value];

    /// <summary>Reads a name, case-insensitively.</summary>
    public static bool TryParse(string? name, out TEnum value)
    {
        value = default;
        return name is not null && ValueOf.TryGetValue(name, out value);
    }

    /// <summary>Reads a name that was validated before (case-insensitively); an unknown name is a bug here.</summary>
    /// <exception cref="ArgumentException">The name is not one of <see cref="All"/>.</exception>
    public static TEnum Parse(string name) =>
        TryParse(name, out var value) ? value : throw new ArgumentException($"'{name}' is not one of: {string.Join(", ", All)}.", nameof(name));

    /// <summary>Every name with its count from <paramref name="counts"/>, 0 where a name is absent.</summary>
    public static IReadOnlyDictionary<string, long> WithCounts(IReadOnlyDictionary<string, long> counts)
    {
        ArgumentNullException.ThrowIfNull(counts);
        return All.ToDictionary(name => name, name => counts.GetValueOrDefault(name), StringComparer.Ordinal);
    }
}
