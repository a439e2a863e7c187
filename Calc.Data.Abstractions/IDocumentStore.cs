namespace Calc.Data;

/// <summary>One configured database: builds the repositories of every collection and answers health checks.</summary>
internal interface IDocumentStore : IDisposable, IAsyncDisposable
{
    IDocumentRepository<T> CreateRepository<T>(DocumentCollection<T> collection) where T : class;

    /// <summary>Opens a connection and runs a trivial command; throws when the database does not answer.</summary>
    Task CheckConnectionAsync(CancellationToken cancellationToken);
}
