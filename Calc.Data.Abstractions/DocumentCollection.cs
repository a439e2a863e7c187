namespace Calc.Data;

/// <summary>
/// Describes how one document type is stored: its collection (table, key prefix) name, its one indexed field and its
/// sort key. Registered once per type with <c>services.AddDocumentCollection(...)</c>.
/// </summary>
/// <typeparam name="T">The document type.</typeparam>
public sealed class DocumentCollection<T> : IDocumentCollection where T : class
{
    /// <summary>Collection name: lower case letters, digits and underscores (used as a table name or key prefix).</summary>
    public required string Name { get; init; }

    /// <summary>Value of the indexed field (e.g. a status); queries and counts filter on it. Null means "not indexed".</summary>
    public Func<T, string?> Index { get; init; } = static _ => null;

    /// <summary>Sort key for queries (e.g. creation time in Unix milliseconds); ties are broken by id.</summary>
    public Func<T, long> SortKey { get; init; } = static _ => 0;

    /// <inheritdoc />
    public Type DocumentType => typeof(T);

    /// <inheritdoc />
    public void Accept(IDocumentCollectionVisitor visitor)
    {
        ArgumentNullException.ThrowIfNull(visitor);
        visitor.Visit(this);
    }
}

/// <summary>A registered collection whatever its document type, as a store sees the list of them at start.</summary>
public interface IDocumentCollection
{
    /// <summary>The collection name.</summary>
    string Name { get; }

    /// <summary>The document type.</summary>
    Type DocumentType { get; }

    /// <summary>Calls <see cref="IDocumentCollectionVisitor.Visit{T}"/> with the typed collection (no reflection needed).</summary>
    void Accept(IDocumentCollectionVisitor visitor);
}

/// <summary>Receives a collection with its document type, e.g. to map every collection when a store is built.</summary>
public interface IDocumentCollectionVisitor
{
    /// <summary>Called with the typed collection.</summary>
    /// <typeparam name="T">The document type.</typeparam>
    void Visit<T>(DocumentCollection<T> collection) where T : class;
}
