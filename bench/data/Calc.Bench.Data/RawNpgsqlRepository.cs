using System.Text.Json;
using Calc.Data;
using Npgsql;
using NpgsqlTypes;

namespace Calc.Bench.Data;

/// <summary>
/// The floor: the benchmarked operations as hand-written SQL straight on Npgsql, one statement each, on a plain jsonb
/// table, with no abstraction between the caller and the command. Only what the benchmark runs is implemented.
/// </summary>
internal sealed class RawNpgsqlRepository(NpgsqlDataSource dataSource, JsonSerializerOptions json) : IDocumentRepository<BenchDocument>
{
    private const string Table = "raw_documents";
    private const string Live = "(expires_at IS NULL OR expires_at > now())";

    public async Task CreateTableAsync()
    {
        await using var command = dataSource.CreateCommand($"""
            CREATE TABLE IF NOT EXISTS {Table} (id text COLLATE "C" PRIMARY KEY, body jsonb NOT NULL, version bigint NOT NULL,
                idx text COLLATE "C", sort bigint NOT NULL, expires_at timestamptz);
            CREATE INDEX IF NOT EXISTS {Table}_idx_sort ON {Table} (idx, sort, id);
            """);
        await command.ExecuteNonQueryAsync();
    }

    public async Task<StoredDocument<BenchDocument>?> LoadAsync(string id, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand($"SELECT body, version FROM {Table} WHERE id = $1 AND {Live}");
        command.Parameters.Add(new NpgsqlParameter { Value = id });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new StoredDocument<BenchDocument>(id, JsonSerializer.Deserialize<BenchDocument>(reader.GetString(0), json)!, reader.GetInt64(1), null)
            : null;
    }

    public async Task<WriteResult<BenchDocument>> InsertAsync(string id, BenchDocument document, DateTimeOffset? expiresAt = null, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand($"INSERT INTO {Table} (id, body, version, idx, sort) VALUES ($1, $2, 1, $3, $4) ON CONFLICT (id) DO NOTHING");
        AddContent(command, id, document);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1
            ? new WriteResult<BenchDocument>(WriteStatus.Written, new StoredDocument<BenchDocument>(id, document, 1, null))
            : new WriteResult<BenchDocument>(WriteStatus.AlreadyExists, null);
    }

    public async Task<WriteResult<BenchDocument>> UpdateAsync(string id, BenchDocument document, long expectedVersion, DateTimeOffset? expiresAt = null, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand(
            $"UPDATE {Table} SET body = $2, idx = $3, sort = $4, version = version + 1 WHERE id = $1 AND version = $5 AND {Live}");
        AddContent(command, id, document);
        command.Parameters.Add(new NpgsqlParameter { Value = expectedVersion });
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1
            ? new WriteResult<BenchDocument>(WriteStatus.Written, new StoredDocument<BenchDocument>(id, document, expectedVersion + 1, null))
            : new WriteResult<BenchDocument>(WriteStatus.VersionConflict, null);
    }

    public async Task<IReadOnlyList<StoredDocument<BenchDocument>>> QueryAsync(DocumentQuery query, CancellationToken cancellationToken = default)
    {
        var direction = query.Descending ? "DESC" : "ASC";
        await using var command = dataSource.CreateCommand(
            $"SELECT id, body, version FROM {Table} WHERE idx = $1 AND {Live} ORDER BY sort {direction}, id {direction} LIMIT $2 OFFSET $3");
        command.Parameters.Add(new NpgsqlParameter { Value = query.IndexValue });
        command.Parameters.Add(new NpgsqlParameter { Value = query.Limit });
        command.Parameters.Add(new NpgsqlParameter { Value = query.Offset });
        var page = new List<StoredDocument<BenchDocument>>(query.Limit);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            page.Add(new StoredDocument<BenchDocument>(reader.GetString(0), JsonSerializer.Deserialize<BenchDocument>(reader.GetString(1), json)!, reader.GetInt64(2), null));
        }

        return page;
    }

    public async Task<IReadOnlyDictionary<string, long>> CountByIndexAsync(CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand($"SELECT idx, count(*) FROM {Table} WHERE idx IS NOT NULL AND {Live} GROUP BY idx");
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            counts[reader.GetString(0)] = reader.GetInt64(1);
        }

        return counts;
    }

    public Task<IReadOnlyList<StoredDocument<BenchDocument>>> LoadManyAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public Task<bool> DeleteAsync(string id, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<long> CountAsync(string? indexValue = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<long> PurgeExpiredAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException();

    private void AddContent(NpgsqlCommand command, string id, BenchDocument document)
    {
        command.Parameters.Add(new NpgsqlParameter { Value = id });
        command.Parameters.Add(new NpgsqlParameter { Value = JsonSerializer.Serialize(document, json), NpgsqlDbType = NpgsqlDbType.Jsonb });
        command.Parameters.Add(new NpgsqlParameter { Value = BenchDocument.IndexOf(document) });
        command.Parameters.Add(new NpgsqlParameter { Value = document.CreatedAt });
    }
}
