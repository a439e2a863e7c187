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

    /// <summary>Checks the ids of a LoadManyAsync and returns them without duplicates (ordinal), first occurrence first.</summary>
    public static string[] Ids(IReadOnlyList<string> ids, string paramName)
    {
        ArgumentNullException.ThrowIfNull(ids, paramName);
        var distinct = new HashSet<string>(ids.Count, StringComparer.Ordinal);
        var result = new List<string>(ids.Count);
        foreach (var id in ids)
        {
            if (string.IsNullOrEmpty(id))
            {
                throw new ArgumentException("An id is null or empty.", paramName);
            }

            if (distinct.Add(id))
            {
                result.Add(id);
            }
        }

        return [.. result];
    }

    public static void Query(DocumentQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfNegative(query.Offset);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(query.Limit, MaxLimit);
    }
}
