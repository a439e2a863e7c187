namespace Calc.Data;

/// <summary>
/// Describes how one document type is stored: its collection (table, key prefix) name, its one indexed field and its
/// sort key. Registered once per type with <c>services.AddDocumentCollection(...)</c>.
/// </summary>
/// <typeparam name="T">The document type.</typeparam>
public sealed class DocumentCollection<T> where T : class
{
    /// <summary>Collection name: lower case letters, digits and underscores (used as a table name or key prefix).</summary>
    public required string Name { get; init; }

    /// <summary>Value of the indexed field (e.g. a status); queries and counts filter on it. Null means "not indexed".</summary>
    public Func<T, string?> Index { get; init; } = static _ => null;

    /// <summary>Sort key for queries (e.g. creation time in Unix milliseconds); ties are broken by id.</summary>
    public Func<T, long> SortKey { get; init; } = static _ => 0;
}
