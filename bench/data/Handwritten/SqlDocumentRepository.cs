using System.Data.Common;
using System.Text.Json;

namespace Calc.Bench.Data.Handwritten.Sql;

/// <summary>The repository over one table, the same for every SQL store; dialect details come from <see cref="SqlDocumentStore"/>.</summary>
internal sealed class SqlDocumentRepository<T> : IDocumentRepository<T> where T : class
{
    private readonly SqlDocumentStore _store;
    private readonly DocumentCollection<T> _collection;
    private readonly JsonSerializerOptions _serializerOptions;
    private readonly TimeProvider _time;
    private readonly SqlStatements _sql;
    private readonly Lock _schemaGate = new();
    private Task? _schema;

    public SqlDocumentRepository(SqlDocumentStore store, DocumentCollection<T> collection, JsonSerializerOptions serializerOptions, TimeProvider time)
    {
        DocumentGuard.CollectionName(collection.Name, nameof(collection));
        _store = store;
        _collection = collection;
        _serializerOptions = serializerOptions;
        _time = time;
        _sql = new SqlStatements(collection.Name);
    }

    public string Name => _collection.Name;

    public async Task<StoredDocument<T>?> LoadAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, _sql.Load);
        Add(command, "id", id);
        AddNow(command);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadDocument(reader) : null;
    }

    public async Task<IReadOnlyList<StoredDocument<T>>> LoadManyAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken = default)
    {
        var distinct = DocumentGuard.Ids(ids, nameof(ids));
        if (distinct.Length == 0)
        {
            return [];
        }

        var found = new List<StoredDocument<T>>(distinct.Length);
        await using var connection = await OpenAsync(cancellationToken);
        foreach (var chunk in distinct.Chunk(SqlStatements.LoadManyChunk))
        {
            await using var command = Command(connection, _sql.LoadMany(chunk.Length));
            for (var i = 0; i < chunk.Length; i++)
            {
                Add(command, $"id{i}", chunk[i]);
            }

            AddNow(command);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                found.Add(ReadDocument(reader));
            }
        }

        return found;
    }

    public async Task<WriteResult<T>> InsertAsync(string id, T document, DateTimeOffset? expiresAt = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentNullException.ThrowIfNull(document);
        expiresAt = ToStoredPrecision(expiresAt);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, _sql.Insert);
        AddContent(command, id, document, expiresAt);
        AddNow(command);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1
            ? Written(new StoredDocument<T>(id, document, 1, expiresAt))
            : new WriteResult<T>(WriteStatus.AlreadyExists, null);
    }

    public async Task<WriteResult<T>> UpdateAsync(string id, T document, long expectedVersion, DateTimeOffset? expiresAt = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentNullException.ThrowIfNull(document);
        expiresAt = ToStoredPrecision(expiresAt);
        await using var connection = await OpenAsync(cancellationToken);
        await using (var update = Command(connection, _sql.Update))
        {
            AddContent(update, id, document, expiresAt);
            Add(update, "version", expectedVersion);
            AddNow(update);
            if (await update.ExecuteNonQueryAsync(cancellationToken) == 1)
            {
                return Written(new StoredDocument<T>(id, document, expectedVersion + 1, expiresAt));
            }
        }

        // The guarded update wrote nothing: tell a missing document from a stale version.
        await using var probe = Command(connection, _sql.LiveVersion);
        Add(probe, "id", id);
        AddNow(probe);
        var status = await probe.ExecuteScalarAsync(cancellationToken) is null or DBNull ? WriteStatus.NotFound : WriteStatus.VersionConflict;
        return new WriteResult<T>(status, null);
    }

    public async Task<bool> DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        var now = _time.GetUtcNow();
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, _sql.Delete);
        Add(command, "id", id);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        // An expired row is removed as well, but it did not exist for the caller.
        return await reader.ReadAsync(cancellationToken) && (await reader.IsDBNullAsync(0, cancellationToken) || _store.ReadTimestamp(reader, 0) > now);
    }

    public async Task<IReadOnlyList<StoredDocument<T>>> QueryAsync(DocumentQuery query, CancellationToken cancellationToken = default)
    {
        DocumentGuard.Query(query);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, _sql.SelectPage(indexed: query.IndexValue is not null, query.Descending));
        if (query.IndexValue is not null)
        {
            Add(command, "idx", query.IndexValue);
        }

        Add(command, "limit", query.Limit);
        Add(command, "offset", query.Offset);
        AddNow(command);
        var page = new List<StoredDocument<T>>(Math.Min(query.Limit, 100));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            page.Add(ReadDocument(reader));
        }

        return page;
    }

    public async Task<long> CountAsync(string? indexValue = null, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, indexValue is null ? _sql.CountAll : _sql.CountIndexed);
        if (indexValue is not null)
        {
            Add(command, "idx", indexValue);
        }

        AddNow(command);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task<IReadOnlyDictionary<string, long>> CountByIndexAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, _sql.CountByIndex);
        AddNow(command);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            counts[reader.GetString(0)] = reader.GetInt64(1);
        }

        return counts;
    }

    public async Task<long> PurgeExpiredAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, _sql.Purge);
        AddNow(command);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        await EnsureSchemaAsync().WaitAsync(cancellationToken);
        return await _store.OpenConnectionAsync(cancellationToken);
    }

    // One creation per repository, shared by concurrent first calls; a failed attempt is retried by the next call.
    private Task EnsureSchemaAsync()
    {
        lock (_schemaGate)
        {
            if (_schema is null || _schema.IsFaulted || _schema.IsCanceled)
            {
                _schema = CreateSchemaAsync();
            }

            return _schema;
        }
    }

    private async Task CreateSchemaAsync()
    {
        await Task.Yield(); // Connect outside the caller's lock.
        await using var connection = await _store.OpenConnectionAsync(CancellationToken.None);
        await _store.CreateTableAsync(connection, _sql, CancellationToken.None);
    }

    private static DbCommand Command(DbConnection connection, string sql)
    {
        var command = connection.CreateCommand();
#pragma warning disable CA2100 // Statements are built from a validated collection name, values go through parameters.
        command.CommandText = sql;
#pragma warning restore CA2100
        return command;
    }

    private void AddContent(DbCommand command, string id, T document, DateTimeOffset? expiresAt)
    {
        Add(command, "id", id);
        var body = command.CreateParameter();
        body.ParameterName = "body";
        _store.SetJson(body, JsonSerializer.Serialize(document, _serializerOptions));
        command.Parameters.Add(body);
        Add(command, "idx", _collection.Index(document));
        Add(command, "sort", _collection.SortKey(document));
        Add(command, "expires_at", expiresAt is { } at ? _store.ToTimestamp(at) : null);
    }

    private void AddNow(DbCommand command) => Add(command, "now", _store.ToTimestamp(_time.GetUtcNow()));

    private static void Add(DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
    }

    private StoredDocument<T> ReadDocument(DbDataReader reader)
    {
        var document = JsonSerializer.Deserialize<T>(reader.GetString(1), _serializerOptions)
            ?? throw new InvalidDataException($"Document '{reader.GetString(0)}' in collection '{Name}' is JSON null.");
        DateTimeOffset? expiresAt = reader.IsDBNull(3) ? null : _store.ReadTimestamp(reader, 3);
        return new StoredDocument<T>(reader.GetString(0), document, reader.GetInt64(2), expiresAt);
    }

    private static WriteResult<T> Written(StoredDocument<T> stored) => new(WriteStatus.Written, stored);

    // Stores keep milliseconds at most, so what a write returns equals what a later load returns.
    private static DateTimeOffset? ToStoredPrecision(DateTimeOffset? value) =>
        value is { } at ? DateTimeOffset.FromUnixTimeMilliseconds(at.ToUnixTimeMilliseconds()) : null;
}
