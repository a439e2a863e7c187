namespace Calc.Data;

/// <summary>
/// One configured database, as a provider package implements it: builds the repository of every registered
/// collection, prepares the database at start and answers health checks. Created once per service provider by the
/// <see cref="DocumentStoreProvider"/> that <c>Database:Provider</c> names.
/// </summary>
public interface IDocumentStore : IDisposable, IAsyncDisposable
{
    /// <summary>The repository of one collection; called once per registered collection.</summary>
    /// <typeparam name="T">The document type.</typeparam>
    /// <param name="collection">The collection, one of those the store was created with.</param>
    IDocumentRepository<T> CreateRepository<T>(DocumentCollection<T> collection) where T : class;

    /// <summary>
    /// Creates what the collections need (tables, indexes) before the first request, when the host starts. Safe when
    /// several instances start at once. Repositories also work without it (they prepare their collection on first use).
    /// </summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Opens a connection and runs a trivial command; throws when the database does not answer.</summary>
    Task CheckConnectionAsync(CancellationToken cancellationToken);
}
