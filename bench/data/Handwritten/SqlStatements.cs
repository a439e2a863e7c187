using System.Security.Cryptography;
using System.Text;

namespace Calc.Bench.Data.Handwritten.Sql;

/// <summary>
/// The statements of one collection's table, in the SQL that SQLite and PostgreSQL share
/// (upsert with a conditional DO UPDATE, RETURNING, LIMIT/OFFSET).
/// </summary>
internal sealed class SqlStatements
{
    private const string Live = "(expires_at IS NULL OR expires_at > @now)";
    private const int MaxIdentifierLength = 63;

    public SqlStatements(string collectionName)
    {
        Table = Quote(collectionName);
        IndexSortIndex = Quote(IndexName(collectionName, "idx_sort"));
        ExpiresIndex = Quote(IndexName(collectionName, "expires"));
        Load = $"SELECT id, body, version, expires_at FROM {Table} WHERE id = @id AND {Live}";
        _loadFullChunk = LoadManyStatement(LoadManyChunk);
        // A live row with the id makes the DO UPDATE condition false: no row is written, so the caller sees 0 rows.
        Insert = $"""
            INSERT INTO {Table} (id, body, version, idx, sort, expires_at) VALUES (@id, @body, 1, @idx, @sort, @expires_at)
            ON CONFLICT (id) DO UPDATE SET body = excluded.body, version = 1, idx = excluded.idx, sort = excluded.sort, expires_at = excluded.expires_at
            WHERE {Table}.expires_at IS NOT NULL AND {Table}.expires_at <= @now
            """;
        Update = $"""
            UPDATE {Table} SET body = @body, version = version + 1, idx = @idx, sort = @sort, expires_at = @expires_at
            WHERE id = @id AND version = @version AND {Live}
            """;
        LiveVersion = $"SELECT version FROM {Table} WHERE id = @id AND {Live}";
        Delete = $"DELETE FROM {Table} WHERE id = @id RETURNING expires_at";
        Purge = $"DELETE FROM {Table} WHERE expires_at <= @now";
        CountAll = $"SELECT count(*) FROM {Table} WHERE {Live}";
        CountIndexed = $"SELECT count(*) FROM {Table} WHERE idx = @idx AND {Live}";
        CountByIndex = $"SELECT idx, count(*) FROM {Table} WHERE idx IS NOT NULL AND {Live} GROUP BY idx";
        _queries =
        [
            Query(indexed: false, descending: false),
            Query(indexed: false, descending: true),
            Query(indexed: true, descending: false),
            Query(indexed: true, descending: true),
        ];
    }

    /// <summary>
    /// Ids per LoadMany statement: one parameter each, far below the parameter limits of SQLite (32766) and
    /// PostgreSQL (65535), and a statement short enough to parse quickly.
    /// </summary>
    public const int LoadManyChunk = 500;

    private readonly string[] _queries;
    private readonly string _loadFullChunk;

    public string Table { get; }
    public string IndexSortIndex { get; }
    public string ExpiresIndex { get; }
    public string Load { get; }
    public string Insert { get; }
    public string Update { get; }
    public string LiveVersion { get; }
    public string Delete { get; }
    public string Purge { get; }
    public string CountAll { get; }
    public string CountIndexed { get; }
    public string CountByIndex { get; }

    /// <summary>Loads the live rows among <paramref name="count"/> ids, passed as parameters <c>@id0</c> to <c>@id{count - 1}</c>.</summary>
    public string LoadMany(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, LoadManyChunk);
        return count == LoadManyChunk ? _loadFullChunk : LoadManyStatement(count);
    }

    public string SelectPage(bool indexed, bool descending) => _queries[(indexed ? 2 : 0) + (descending ? 1 : 0)];

    private string Query(bool indexed, bool descending)
    {
        var filter = indexed ? "idx = @idx AND " : "";
        var direction = descending ? "DESC" : "ASC";
        return $"SELECT id, body, version, expires_at FROM {Table} WHERE {filter}{Live} ORDER BY sort {direction}, id {direction} LIMIT @limit OFFSET @offset";
    }

    // An IN list of parameters: the one form both SQLite and PostgreSQL take (PostgreSQL's = ANY(@array) is not SQLite's).
    private string LoadManyStatement(int count)
    {
        var parameters = string.Join(", ", Enumerable.Range(0, count).Select(i => $"@id{i}"));
        return $"SELECT id, body, version, expires_at FROM {Table} WHERE id IN ({parameters}) AND {Live}";
    }

    // Names are checked by DocumentGuard (lower case identifiers), so they cannot break out of the quotes.
    private static string Quote(string identifier) => $"\"{identifier}\"";

    // PostgreSQL truncates identifiers past 63 bytes, which could make two index names collide; a hash keeps them apart.
    private static string IndexName(string table, string suffix)
    {
        var name = $"{table}_{suffix}";
        if (name.Length <= MaxIdentifierLength)
        {
            return name;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(table)))[..8];
        return $"{table[..(MaxIdentifierLength - suffix.Length - 10)]}_{hash}_{suffix}";
    }
}
