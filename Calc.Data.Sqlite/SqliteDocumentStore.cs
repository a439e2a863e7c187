using System.Data.Common;
using System.Text.Json;
using Calc.Data.Sql;
using Microsoft.Data.Sqlite;

namespace Calc.Data.Sqlite;

/// <summary>SQLite: an embedded file, WAL mode, timestamps as Unix milliseconds.</summary>
internal sealed class SqliteDocumentStore(string connectionString, JsonSerializerOptions serializerOptions, TimeProvider time, IReadOnlyList<IDocumentCollection> collections)
    : SqlDocumentStore(serializerOptions, time, collections)
{
    // Writers from many threads queue on the database lock instead of failing at once with SQLITE_BUSY.
    private const string ConnectionPragmas = "PRAGMA busy_timeout = 10000;";

    public override async Task<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = connection.CreateCommand();
            command.CommandText = ConnectionPragmas;
            await command.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public override async Task CreateTableAsync(DbConnection connection, SqlStatements statements, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        // WAL lets readers run beside the one writer; the mode is stored in the file, so setting it again is a no-op.
#pragma warning disable CA2100 // Identifiers come from a validated collection name.
        command.CommandText = $"""
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS {statements.Table} (
                id TEXT NOT NULL PRIMARY KEY,
                body TEXT NOT NULL,
                version INTEGER NOT NULL,
                idx TEXT NULL,
                sort INTEGER NOT NULL,
                expires_at INTEGER NULL);
            CREATE INDEX IF NOT EXISTS {statements.IndexSortIndex} ON {statements.Table} (idx, sort, id);
            CREATE INDEX IF NOT EXISTS {statements.ExpiresIndex} ON {statements.Table} (expires_at);
            """;
#pragma warning restore CA2100
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public override object ToTimestamp(DateTimeOffset value) => value.ToUnixTimeMilliseconds();

    public override DateTimeOffset ReadTimestamp(DbDataReader reader, int ordinal) =>
        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(ordinal));

    public override void Dispose()
    {
        // Pooled connections keep the file (and its -wal/-shm companions) open after the application is done with it.
        using var connection = new SqliteConnection(connectionString);
        SqliteConnection.ClearPool(connection);
    }
}
