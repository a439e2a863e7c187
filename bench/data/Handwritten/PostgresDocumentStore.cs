using System.Data.Common;
using System.Text.Json;
using Calc.Data.Sql;
using Npgsql;
using NpgsqlTypes;

namespace Calc.Bench.Data.Handwritten;

/// <summary>The hand-written JSONB provider that Marten replaced, kept here only to be measured against it. PostgreSQL: one pooled <see cref="NpgsqlDataSource"/>, bodies as jsonb, timestamps as timestamptz.</summary>
internal sealed class PostgresDocumentStore(string connectionString, JsonSerializerOptions serializerOptions, TimeProvider time)
    : SqlDocumentStore(serializerOptions, time, [])
{
    // Serializes schema changes of every Calc instance on the database: CREATE TABLE IF NOT EXISTS alone can still fail
    // with a unique violation on pg_type when two sessions create the same table at once.
    private const long SchemaLockKey = 0x43616c63_44617461; // "CalcData"

    private readonly NpgsqlDataSource _dataSource = NpgsqlDataSource.Create(connectionString);

    public override async Task<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken) =>
        await _dataSource.OpenConnectionAsync(cancellationToken);

    public override async Task CreateTableAsync(DbConnection connection, SqlStatements statements, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        // COLLATE "C": ids and index values order by code point, as on every other provider, whatever the database's locale.
#pragma warning disable CA2100 // Identifiers come from a validated collection name.
        command.CommandText = $"""
            SELECT pg_advisory_xact_lock({SchemaLockKey});
            CREATE TABLE IF NOT EXISTS {statements.Table} (
                id text COLLATE "C" NOT NULL PRIMARY KEY,
                body jsonb NOT NULL,
                version bigint NOT NULL,
                idx text COLLATE "C" NULL,
                sort bigint NOT NULL,
                expires_at timestamptz NULL);
            CREATE INDEX IF NOT EXISTS {statements.IndexSortIndex} ON {statements.Table} (idx, sort, id);
            CREATE INDEX IF NOT EXISTS {statements.ExpiresIndex} ON {statements.Table} (expires_at);
            """;
#pragma warning restore CA2100
        await command.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    public override object ToTimestamp(DateTimeOffset value) => value.UtcDateTime;

    public override DateTimeOffset ReadTimestamp(DbDataReader reader, int ordinal) => reader.GetFieldValue<DateTimeOffset>(ordinal);

    public override void SetJson(DbParameter parameter, string json)
    {
        ((NpgsqlParameter)parameter).NpgsqlDbType = NpgsqlDbType.Jsonb;
        parameter.Value = json;
    }

    public override void Dispose() => _dataSource.Dispose();
}
