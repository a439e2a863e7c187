using System.Text.RegularExpressions;

namespace Calc.Data;

/// <summary>Argument checks and conventions every provider applies the same way.</summary>
public static partial class DocumentGuard
{
    /// <summary>The largest <see cref="DocumentQuery.Limit"/>.</summary>
    public const int MaxLimit = 1000;

    // The name becomes a table name or key prefix without quoting rules of its own, so it is kept to a safe identifier.
    [GeneratedRegex(@"^[a-z][a-z0-9_]{0,62}\z", RegexOptions.CultureInvariant)]
    private static partial Regex CollectionNamePattern();

    /// <summary>Throws unless <paramref name="name"/> is 1 to 63 lower case letters, digits or underscores, starting with a letter.</summary>
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

    /// <summary>Throws when the offset is negative or the limit is outside 1 to <see cref="MaxLimit"/>.</summary>
    public static void Query(DocumentQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfNegative(query.Offset);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(query.Limit, MaxLimit);
    }

    /// <summary>
    /// An expiry at the precision every store keeps (milliseconds), so what a write returns equals what a later load returns.
    /// </summary>
    public static DateTimeOffset? ToStoredPrecision(DateTimeOffset? value) =>
        value is { } at ? DateTimeOffset.FromUnixTimeMilliseconds(at.ToUnixTimeMilliseconds()) : null;
}
