using System.Text.RegularExpressions;

namespace Calc.Data;

/// <summary>Argument checks every provider applies the same way.</summary>
internal static partial class DocumentGuard
{
    public const int MaxLimit = 1000;

    // The name becomes a table name or key prefix without quoting rules of its own, so it is kept to a safe identifier.
    [GeneratedRegex(@"^[a-z][a-z0-9_]{0,62}\z", RegexOptions.CultureInvariant)]
    private static partial Regex CollectionNamePattern();

    public static void CollectionName(string? name, string paramName)
    {
        if (name is null || !CollectionNamePattern().IsMatch(name))
        {
            throw new ArgumentException(
                $"Collection name '{name}' is invalid: use 1 to 63 lower case letters, digits or underscores, starting with a letter.",
                paramName);
        }
    }

    public static void Query(DocumentQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfNegative(query.Offset);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(query.Limit, MaxLimit);
    }
}
