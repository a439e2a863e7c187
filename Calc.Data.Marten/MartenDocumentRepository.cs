using JasperFx;
using Marten;
using Marten.Exceptions;

namespace Calc.Data.Marten;

/// <summary>
/// One collection through Marten's sessions: a query session per read, a lightweight session (one transaction) per
/// write. Everything goes through Marten's API except the three statements it cannot express, which go through the
/// session's <c>AdvancedSql</c>: the count per index value (a GROUP BY), a delete that reports whether it found a live
/// document, the versioned update (one guarded UPDATE instead of a load plus Marten's upserting UpdateRevision), and the
/// insert (one statement instead of Marten's unit of work, which wraps it in BEGIN and COMMIT: 4 statements and 3 round
/// trips per insert where one does, measured in bench/data).
/// </summary>
internal sealed class MartenDocumentRepository<T> : IDocumentRepository<T> where T : class
{
    // Ids per LoadMany round trip, as on the other providers: one array parameter, a bounded result.
    private const int LoadManyChunk = 500;

    private readonly MartenDocumentStore _owner;
    private readonly DocumentStore _store;
    private readonly DocumentCollection<T> _collection;
    private readonly TimeProvider _time;
    // What the update statement returns when it wrote; otherwise it returns the live version it saw (0 for none).
    private const long UpdateWritten = -1;

    // What Marten writes to mt_doc_*.mt_dotnet_type for a document of a type without subclasses.
    private static readonly string DotNetType = typeof(MartenDocument<T>).FullName!;

    private readonly ISerializer _serializer;
    private readonly Lazy<(string Table, string CountByIndex, string Delete, string Update, string Insert)> _sql;

    public MartenDocumentRepository(MartenDocumentStore owner, DocumentStore store, DocumentCollection<T> collection, TimeProvider time)
    {
        DocumentGuard.CollectionName(collection.Name, nameof(collection));
        _owner = owner;
        _store = store;
        _collection = collection;
        _time = time;
        _serializer = store.Options.Serializer();
        _sql = new Lazy<(string, string, string, string, string)>(() =>
        {
            // The table name comes from Marten's own mapping, quoted by it; values go through parameters.
            var mapping = ((IReadOnlyStoreOptions)store.Options).FindOrResolveDocumentType(typeof(MartenDocument<T>));
            var table = mapping.TableName.QualifiedName;
            return (
                table,
                // One text column, count first: AdvancedSql reads a second column of a tuple as JSON, not as text.
                $"SELECT count(*)::text || ':' || idx FROM {table} WHERE idx IS NOT NULL AND (expires_at IS NULL OR expires_at > ?) GROUP BY idx",
                $"WITH removed AS (DELETE FROM {table} WHERE id = ? RETURNING expires_at) SELECT count(*) FROM removed WHERE expires_at IS NULL OR expires_at > ?",
                // Every column Marten's own update writes, so its Load reads the same document and version: the JSON
                // (serialized by Marten's serializer), mt_version, the duplicated fields and mt_last_modified.
                // All sub-statements share one snapshot: the SELECT sees the row as it was before the UPDATE.
                $"""
                WITH updated AS (
                    UPDATE {table} SET data = ?::jsonb, mt_version = ?, idx = ?::varchar, sort = ?, expires_at = ?::timestamptz, mt_last_modified = transaction_timestamp()
                    WHERE id = ? AND mt_version = ? AND (expires_at IS NULL OR expires_at > ?)
                    RETURNING 1)
                SELECT coalesce(
                    (SELECT {UpdateWritten}::bigint FROM updated),
                    (SELECT mt_version::bigint FROM {table} WHERE id = ? AND (expires_at IS NULL OR expires_at > ?)),
                    0)
                """,
                // The columns Marten's own insert writes (mt_dotnet_type as it writes it, for a type with no subclasses);
                // a row with the id, live or expired, makes it insert nothing.
                $"""
                WITH inserted AS (
                    INSERT INTO {table} (id, data, mt_version, mt_dotnet_type, mt_last_modified, idx, sort, expires_at)
                    VALUES (?, ?::jsonb, 1, ?, transaction_timestamp(), ?::varchar, ?, ?::timestamptz)
                    ON CONFLICT (id) DO NOTHING
                    RETURNING 1)
                SELECT count(*) FROM inserted
                """);
        });
    }

    public async Task<StoredDocument<T>?> LoadAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        await using var session = await QueryAsync(cancellationToken);
        var stored = await session.LoadAsync<MartenDocument<T>>(id, cancellationToken);
        return stored is not null && IsLive(stored, _time.GetUtcNow()) ? ToStored(stored) : null;
    }

    public async Task<IReadOnlyList<StoredDocument<T>>> LoadManyAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken = default)
    {
        var distinct = DocumentGuard.Ids(ids, nameof(ids));
        if (distinct.Length == 0)
        {
            return [];
        }

        var now = _time.GetUtcNow();
        var found = new List<StoredDocument<T>>(distinct.Length);
        await using var session = await QueryAsync(cancellationToken);
        foreach (var chunk in distinct.Chunk(LoadManyChunk))
        {
            var loaded = await session.LoadManyAsync<MartenDocument<T>>(cancellationToken, chunk);
            found.AddRange(loaded.Where(stored => IsLive(stored, now)).Select(ToStored));
        }

        return found;
    }

    public async Task<WriteResult<T>> InsertAsync(string id, T document, DateTimeOffset? expiresAt = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentNullException.ThrowIfNull(document);
        expiresAt = DocumentGuard.ToStoredPrecision(expiresAt);
        var now = _time.GetUtcNow();
        var written = new WriteResult<T>(WriteStatus.Written, new StoredDocument<T>(id, document, 1, expiresAt));
        // The common case first: one insert, which a live or expired document with the id makes fail on the key.
        if (await TryInsertAsync(id, document, expiresAt, removeExpired: false, now, cancellationToken))
        {
            return written;
        }

        // An expired document is gone for the caller: remove it, then insert (Marten's unit of work runs inserts
        // before deletes, so they are two SaveChanges); a writer getting in between makes the insert fail as it should.
        return await TryInsertAsync(id, document, expiresAt, removeExpired: true, now, cancellationToken)
            ? written
            : new WriteResult<T>(WriteStatus.AlreadyExists, null);
    }

    private async Task<bool> TryInsertAsync(string id, T document, DateTimeOffset? expiresAt, bool removeExpired, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (removeExpired)
        {
            await using var write = await WriteAsync(cancellationToken);
            var expired = await write.Query<MartenDocument<T>>()
                .Where(stored => stored.Id == id && stored.ExpiresAt != null && stored.ExpiresAt <= now)
                .AnyAsync(cancellationToken);
            if (!expired)
            {
                return false;
            }

            write.DeleteWhere<MartenDocument<T>>(stored => stored.Id == id && stored.ExpiresAt != null && stored.ExpiresAt <= now);
            await write.SaveChangesAsync(cancellationToken);
        }

        // Raw SQL: one INSERT ... ON CONFLICT DO NOTHING on its own (autocommit) instead of Marten's unit of work.
        await using var session = await QueryAsync(cancellationToken);
        var envelope = Envelope(id, document, expiresAt);
        envelope.Version = 1;
        var inserted = await session.AdvancedSql.QueryAsync<long>(
            _sql.Value.Insert, cancellationToken,
            id, _serializer.ToJson(envelope), DotNetType, envelope.Idx!, envelope.Sort, expiresAt!);
        return inserted.Single() == 1;
    }

    public async Task<WriteResult<T>> UpdateAsync(string id, T document, long expectedVersion, DateTimeOffset? expiresAt = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentNullException.ThrowIfNull(document);
        expiresAt = DocumentGuard.ToStoredPrecision(expiresAt);
        var next = expectedVersion + 1;
        var envelope = Envelope(id, document, expiresAt);
        envelope.Version = next;
        var now = _time.GetUtcNow();
        await using var session = await QueryAsync(cancellationToken);
        // Raw SQL: Marten's UpdateRevision is an upsert (it also writes when the row is missing), so a load had to come
        // first and a delete in between was written back. One guarded UPDATE writes only the live row at the expected
        // version; the same statement reads, from its snapshot, the version it found when it wrote nothing.
        var seen = (await session.AdvancedSql.QueryAsync<long>(
            _sql.Value.Update, cancellationToken,
            _serializer.ToJson(envelope), next, envelope.Idx!, envelope.Sort, expiresAt!, id, expectedVersion, now, id, now)).Single();
        if (seen == UpdateWritten)
        {
            return new WriteResult<T>(WriteStatus.Written, new StoredDocument<T>(id, document, next, expiresAt));
        }

        if (seen != expectedVersion)
        {
            return new WriteResult<T>(seen == 0 ? WriteStatus.NotFound : WriteStatus.VersionConflict, null);
        }

        // The statement saw the expected version yet wrote nothing: a concurrent writer or delete committed first. Only
        // this rare path pays a second round trip, to tell which.
        return new WriteResult<T>(await LoadAsync(id, cancellationToken) is null ? WriteStatus.NotFound : WriteStatus.VersionConflict, null);
    }

    public async Task<bool> DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        await using var session = await QueryAsync(cancellationToken);
        // Raw SQL: DeleteWhere cannot say whether it removed anything. An expired row is removed as well, but it did
        // not exist for the caller.
        var removed = await session.AdvancedSql.QueryAsync<long>(_sql.Value.Delete, cancellationToken, id, _time.GetUtcNow());
        return removed.Single() > 0;
    }

    public async Task<IReadOnlyList<StoredDocument<T>>> QueryAsync(DocumentQuery query, CancellationToken cancellationToken = default)
    {
        DocumentGuard.Query(query);
        var now = _time.GetUtcNow();
        await using var session = await QueryAsync(cancellationToken);
        // Compiled queries (MartenPageQueries.cs): the LINQ is parsed once per query type, not per call.
        var page = query switch
        {
            { IndexValue: { } value, Descending: true } => await session.QueryAsync(
                new LiveIndexPageDescending<T> { IndexValue = value, Now = now, Offset = query.Offset, Limit = query.Limit }, cancellationToken),
            { IndexValue: { } value } => await session.QueryAsync(
                new LiveIndexPageAscending<T> { IndexValue = value, Now = now, Offset = query.Offset, Limit = query.Limit }, cancellationToken),
            { Descending: true } => await session.QueryAsync(
                new LivePageDescending<T> { Now = now, Offset = query.Offset, Limit = query.Limit }, cancellationToken),
            _ => await session.QueryAsync(
                new LivePageAscending<T> { Now = now, Offset = query.Offset, Limit = query.Limit }, cancellationToken),
        };
        return [.. page.Select(ToStored)];
    }

    public async Task<long> CountAsync(string? indexValue = null, CancellationToken cancellationToken = default)
    {
        await using var session = await QueryAsync(cancellationToken);
        var live = Live(session, _time.GetUtcNow());
        return indexValue is null
            ? await live.LongCountAsync(cancellationToken)
            : await live.Where(stored => stored.Idx == indexValue).LongCountAsync(cancellationToken);
    }

    public async Task<IReadOnlyDictionary<string, long>> CountByIndexAsync(CancellationToken cancellationToken = default)
    {
        await using var session = await QueryAsync(cancellationToken);
        // Raw SQL: Marten's LINQ has no GroupBy; this is one statement instead of a count per value.
        var rows = await session.AdvancedSql.QueryAsync<string>(_sql.Value.CountByIndex, cancellationToken, _time.GetUtcNow());
        return rows.Select(row => row.Split(':', 2)).ToDictionary(
            parts => parts[1], parts => long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), StringComparer.Ordinal);
    }

    public async Task<long> PurgeExpiredAsync(CancellationToken cancellationToken = default)
    {
        var now = _time.GetUtcNow();
        await using var session = await WriteAsync(cancellationToken);
        // The count is read in the purge's transaction; two purges running at once may both count the same rows.
        var expired = await session.Query<MartenDocument<T>>()
            .Where(stored => stored.ExpiresAt != null && stored.ExpiresAt <= now)
            .LongCountAsync(cancellationToken);
        if (expired == 0)
        {
            return 0;
        }

        session.DeleteWhere<MartenDocument<T>>(stored => stored.ExpiresAt != null && stored.ExpiresAt <= now);
        await session.SaveChangesAsync(cancellationToken);
        return expired;
    }

    private async Task<IQuerySession> QueryAsync(CancellationToken cancellationToken)
    {
        await _owner.EnsureSchemaAsync().WaitAsync(cancellationToken);
        return _store.QuerySession();
    }

    private async Task<IDocumentSession> WriteAsync(CancellationToken cancellationToken)
    {
        await _owner.EnsureSchemaAsync().WaitAsync(cancellationToken);
        return _store.LightweightSession();
    }

    private static IQueryable<MartenDocument<T>> Live(IQuerySession session, DateTimeOffset now) =>
        session.Query<MartenDocument<T>>().Where(stored => stored.ExpiresAt == null || stored.ExpiresAt > now);

    private static bool IsLive(MartenDocument<T> stored, DateTimeOffset now) => stored.ExpiresAt is not { } at || at > now;

    private MartenDocument<T> Envelope(string id, T document, DateTimeOffset? expiresAt) => new()
    {
        Id = id,
        Body = document,
        Idx = _collection.Index(document),
        Sort = _collection.SortKey(document),
        ExpiresAt = expiresAt,
    };

    private static StoredDocument<T> ToStored(MartenDocument<T> stored) => new(stored.Id, stored.Body, stored.Version, stored.ExpiresAt);
}
