using System.Data.Common;
using System.Text.Json;

namespace Calc.Bench.Data.Handwritten.Sql;

/// <summary>
/// What differs between SQL databases: connections, the table's DDL, how timestamps and JSON are passed.
/// The statements themselves are shared (<see cref="SqlStatements"/>), as is the repository (<see cref="SqlDocumentRepository{T}"/>).
/// </summary>
internal abstract class SqlDocumentStore(JsonSerializerOptions serializerOptions, TimeProvider time, IReadOnlyList<IDocumentCollection> collections) : IDocumentStore
{
    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        foreach (var collection in collections)
        {
            await using var connection = await OpenConnectionAsync(cancellationToken);
            await CreateTableAsync(connection, new SqlStatements(collection.Name), cancellationToken);
        }
    }

    public IDocumentRepository<T> CreateRepository<T>(DocumentCollection<T> collection) where T : class =>
        new SqlDocumentRepository<T>(this, collection, serializerOptions, time);

    public async Task CheckConnectionAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT 1";
        await command.ExecuteScalarAsync(cancellationToken);
    }

    public abstract Task<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken);

    /// <summary>Creates the collection's table and indexes if missing; safe when several processes do it at once.</summary>
    public abstract Task CreateTableAsync(DbConnection connection, SqlStatements statements, CancellationToken cancellationToken);

    public abstract object ToTimestamp(DateTimeOffset value);

    public abstract DateTimeOffset ReadTimestamp(DbDataReader reader, int ordinal);

    public virtual void SetJson(DbParameter parameter, string json) => parameter.Value = json;

    // Both forms: a service provider disposed synchronously refuses singletons that are only IAsyncDisposable.
    public abstract void Dispose();

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
