namespace Calc.Data.Marten;

/// <summary>
/// What Marten stores for one document of a collection: the document itself plus the fields the contract queries on,
/// as members Marten can map (<see cref="DocumentCollection{T}"/> gives them as functions, which Marten cannot).
/// <see cref="Idx"/>, <see cref="Sort"/> and <see cref="ExpiresAt"/> are duplicated into indexed columns;
/// <see cref="Version"/> is Marten's numeric revision (<c>mt_version</c>).
/// </summary>
/// <typeparam name="T">The document type.</typeparam>
public sealed class MartenDocument<T> where T : class
{
    /// <summary>The document id.</summary>
    public string Id { get; set; } = "";

    /// <summary>The document.</summary>
    public T Body { get; set; } = null!;

    /// <summary>The value of the collection's indexed field, or null when not indexed.</summary>
    public string? Idx { get; set; }

    /// <summary>The collection's sort key.</summary>
    public long Sort { get; set; }

    /// <summary>When the document stops existing, or null for never.</summary>
    public DateTimeOffset? ExpiresAt { get; set; }

    /// <summary>Marten's numeric revision, set on load: 1 on insert, incremented on each update.</summary>
    public long Version { get; set; }
}
