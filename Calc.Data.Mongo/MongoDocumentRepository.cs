using System.Text.Json;
using MongoDB.Bson;
using MongoDB.Driver;

namespace Calc.Data.Mongo;

/// <summary>One collection in MongoDB; the stored form and every call are described on <see cref="MongoCommands"/>.</summary>
internal sealed class MongoDocumentRepository<T> : IDocumentRepository<T> where T : class
{
    // Ids read by one LoadMany find ($in): one round trip each, as on the other providers.
    private const int LoadManyChunk = 500;

    private readonly MongoDocumentStore _store;
    private readonly DocumentCollection<T> _collection;
    private readonly IMongoCollection<BsonDocument> _documents;
    private readonly JsonSerializerOptions _serializerOptions;
    private readonly TimeProvider _time;

    public MongoDocumentRepository(MongoDocumentStore store, IMongoDatabase database, DocumentCollection<T> collection, JsonSerializerOptions serializerOptions, TimeProvider time)
    {
        DocumentGuard.CollectionName(collection.Name, nameof(collection));
        _store = store;
        _collection = collection;
        _documents = database.GetCollection<BsonDocument>(collection.Name);
        _serializerOptions = serializerOptions;
        _time = time;
    }

    public string Name => _collection.Name;

    public async Task<StoredDocument<T>?> LoadAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        var documents = await DocumentsAsync(cancellationToken);
        var found = await documents.Find(MongoCommands.LiveById(id, Now())).Limit(1).FirstOrDefaultAsync(cancellationToken);
        return found is null ? null : Read(found);
    }

    public async Task<IReadOnlyList<StoredDocument<T>>> LoadManyAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken = default)
    {
        var distinct = DocumentGuard.Ids(ids, nameof(ids));
        var found = new List<StoredDocument<T>>(distinct.Length);
        if (distinct.Length == 0)
        {
            return found;
        }

        var documents = await DocumentsAsync(cancellationToken);
        foreach (var chunk in distinct.Chunk(LoadManyChunk))
        {
            var page = await documents.Find(MongoCommands.LiveByIds(chunk, Now())).ToListAsync(cancellationToken);
            found.AddRange(page.Select(Read));
        }

        return found;
    }

    public async Task<WriteResult<T>> InsertAsync(string id, T document, DateTimeOffset? expiresAt = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentNullException.ThrowIfNull(document);
        expiresAt = DocumentGuard.ToStoredPrecision(expiresAt);
        var stored = Stored(id, document, 1, expiresAt);
        var documents = await DocumentsAsync(cancellationToken);
        try
        {
            await documents.InsertOneAsync(stored, cancellationToken: cancellationToken);
            return Written(id, document, 1, expiresAt);
        }
        catch (MongoWriteException exception) when (IsDuplicateKey(exception))
        {
            // The id is taken, maybe by an expired document the TTL monitor has not removed yet.
        }

        try
        {
            // Replaces the document only if it has expired; with upsert, one the TTL monitor removed meanwhile is
            // inserted, and a live one (or a concurrent insert that got in first) fails on the key.
            var replaced = await documents.ReplaceOneAsync(MongoCommands.ExpiredById(id, Now()), stored, new ReplaceOptions { IsUpsert = true }, cancellationToken);
            return replaced.MatchedCount == 1 || replaced.UpsertedId is not null
                ? Written(id, document, 1, expiresAt)
                : new WriteResult<T>(WriteStatus.AlreadyExists, null);
        }
        catch (MongoWriteException exception) when (IsDuplicateKey(exception))
        {
            return new WriteResult<T>(WriteStatus.AlreadyExists, null);
        }
    }

    public async Task<WriteResult<T>> UpdateAsync(string id, T document, long expectedVersion, DateTimeOffset? expiresAt = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentNullException.ThrowIfNull(document);
        expiresAt = DocumentGuard.ToStoredPrecision(expiresAt);
        var version = expectedVersion + 1;
        var documents = await DocumentsAsync(cancellationToken);
        var now = Now();
        // One guarded replace: the server matches id, version and liveness and writes in one atomic step, so of two
        // writers on one version exactly one matches.
        var replaced = await documents.ReplaceOneAsync(MongoCommands.LiveAtVersion(id, expectedVersion, now), Stored(id, document, version, expiresAt), cancellationToken: cancellationToken);
        if (replaced.MatchedCount == 1)
        {
            return Written(id, document, version, expiresAt);
        }

        // No match: a missing (or expired) document, or another version. Only this failure path pays the probe.
        var exists = await documents.Find(MongoCommands.LiveById(id, now)).Project(MongoCommands.VersionOnly).Limit(1).AnyAsync(cancellationToken);
        return new WriteResult<T>(exists ? WriteStatus.VersionConflict : WriteStatus.NotFound, null);
    }

    public async Task<bool> DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        var documents = await DocumentsAsync(cancellationToken);
        var deleted = await documents.DeleteOneAsync(MongoCommands.LiveById(id, Now()), cancellationToken);
        return deleted.DeletedCount == 1;
    }

    public async Task<IReadOnlyList<StoredDocument<T>>> QueryAsync(DocumentQuery query, CancellationToken cancellationToken = default)
    {
        DocumentGuard.Query(query);
        var documents = await DocumentsAsync(cancellationToken);
        var page = MongoCommands.Page(query, Now());
        var found = await documents.Find(page.Filter).Sort(page.Sort).Skip(page.Skip).Limit(page.Limit).ToListAsync(cancellationToken);
        return [.. found.Select(Read)];
    }

    public async Task<long> CountAsync(string? indexValue = null, CancellationToken cancellationToken = default)
    {
        var documents = await DocumentsAsync(cancellationToken);
        return await documents.CountDocumentsAsync(MongoCommands.LiveWithIndex(indexValue, Now()), cancellationToken: cancellationToken);
    }

    public async Task<IReadOnlyDictionary<string, long>> CountByIndexAsync(CancellationToken cancellationToken = default)
    {
        var documents = await DocumentsAsync(cancellationToken);
        var groups = await documents.Aggregate(MongoCommands.CountByIndex(Now()), cancellationToken: cancellationToken).ToListAsync(cancellationToken);
        return groups.ToDictionary(group => group[MongoCommands.Id].AsString, group => group["count"].ToInt64(), StringComparer.Ordinal);
    }

    public async Task<long> PurgeExpiredAsync(CancellationToken cancellationToken = default)
    {
        var documents = await DocumentsAsync(cancellationToken);
        var deleted = await documents.DeleteManyAsync(MongoCommands.Expired(Now()), cancellationToken);
        return deleted.DeletedCount;
    }

    /// <summary>The collection, its indexes created first (once per store; the host does it at start).</summary>
    private async Task<IMongoCollection<BsonDocument>> DocumentsAsync(CancellationToken cancellationToken)
    {
        await _store.EnsureIndexesAsync(Name).WaitAsync(cancellationToken);
        return _documents;
    }

    private BsonDocument Stored(string id, T document, long version, DateTimeOffset? expiresAt) => MongoCommands.Document(
        id,
        BsonJson.ToBson(JsonSerializer.SerializeToElement(document, _serializerOptions)),
        version,
        _collection.Index(document),
        _collection.SortKey(document),
        expiresAt);

    private StoredDocument<T> Read(BsonDocument stored)
    {
        var id = stored[MongoCommands.Id].AsString;
        var document = JsonSerializer.Deserialize<T>(BsonJson.ToJson(stored[MongoCommands.Body].AsBsonDocument), _serializerOptions)
            ?? throw new InvalidDataException($"Document '{id}' in collection '{Name}' is JSON null.");
        var expiresAt = stored.GetValue(MongoCommands.ExpiresAt, BsonNull.Value) is BsonDateTime at
            ? DateTimeOffset.FromUnixTimeMilliseconds(at.MillisecondsSinceEpoch)
            : (DateTimeOffset?)null;
        return new StoredDocument<T>(id, document, stored[MongoCommands.Version].ToInt64(), expiresAt);
    }

    private static WriteResult<T> Written(string id, T document, long version, DateTimeOffset? expiresAt) =>
        new(WriteStatus.Written, new StoredDocument<T>(id, document, version, expiresAt));

    private static bool IsDuplicateKey(MongoWriteException exception) => exception.WriteError?.Category == ServerErrorCategory.DuplicateKey;

    private DateTimeOffset Now() => _time.GetUtcNow();
}
