using MongoDB.Bson;
using MongoDB.Driver;

namespace Calc.Data.Mongo;

/// <summary>
/// Every filter, sort, index and pipeline the repository sends, built here and nowhere else, so that each can be
/// rendered to BSON without a server and compared with a snapshot.
/// </summary>
/// <remarks>
/// A stored document: <c>{ _id: id, version: Int64, idx: string or null, sort: Int64, expiresAt: Date or null,
/// body: { the document's JSON as BSON } }</c>. Whether a document has expired is decided by the application's clock
/// (<c>now</c>, milliseconds), on every read, count and write: the TTL monitor removes expired documents only about
/// once a minute.
/// </remarks>
internal static class MongoCommands
{
    public const string Id = "_id";
    public const string Version = "version";
    public const string Index = "idx";
    public const string Sort = "sort";
    public const string ExpiresAt = "expiresAt";
    public const string Body = "body";

    /// <summary>Index names, fixed so that instances starting at once create the same indexes (a no-op for the later ones).</summary>
    public const string IndexSortIndexName = "idx_sort_id";
    public const string SortIndexName = "sort_id";
    public const string ExpiryIndexName = "expiresAt_ttl";

    private static FilterDefinitionBuilder<BsonDocument> Filter => Builders<BsonDocument>.Filter;

    /// <summary>Not expired at <paramref name="now"/>: no expiry (null or missing), or one later than now.</summary>
    public static FilterDefinition<BsonDocument> Live(DateTimeOffset now) =>
        Filter.Or(Filter.Eq(ExpiresAt, BsonNull.Value), Filter.Gt(ExpiresAt, Date(now)));

    /// <summary>The live document with this id (load, delete, and the existence probe after a failed update).</summary>
    public static FilterDefinition<BsonDocument> LiveById(string id, DateTimeOffset now) =>
        Filter.And(Filter.Eq(Id, id), Live(now));

    /// <summary>Only the version: the existence probe after a failed update reads no body.</summary>
    public static ProjectionDefinition<BsonDocument> VersionOnly => Builders<BsonDocument>.Projection.Include(Version);

    /// <summary>The live documents among these ids (one LoadMany chunk).</summary>
    public static FilterDefinition<BsonDocument> LiveByIds(IEnumerable<string> ids, DateTimeOffset now) =>
        Filter.And(Filter.In(Id, ids), Live(now));

    /// <summary>The live document with this id at exactly this version: the guard of a versioned replace.</summary>
    public static FilterDefinition<BsonDocument> LiveAtVersion(string id, long version, DateTimeOffset now) =>
        Filter.And(Filter.Eq(Id, id), Filter.Eq(Version, version), Live(now));

    /// <summary>
    /// The document with this id if it has expired: an insert that met a duplicate key replaces it (upsert, so a
    /// document the TTL monitor removed meanwhile is inserted; a live one makes the upsert fail on the key).
    /// </summary>
    public static FilterDefinition<BsonDocument> ExpiredById(string id, DateTimeOffset now) =>
        Filter.And(Filter.Eq(Id, id), Expired(now));

    /// <summary>Every expired document (the purge).</summary>
    public static FilterDefinition<BsonDocument> Expired(DateTimeOffset now) => Filter.Lte(ExpiresAt, Date(now));

    /// <summary>Live documents, only those whose indexed field is <paramref name="indexValue"/> unless it is null (counts).</summary>
    public static FilterDefinition<BsonDocument> LiveWithIndex(string? indexValue, DateTimeOffset now) =>
        indexValue is null ? Live(now) : Filter.And(Filter.Eq(Index, indexValue), Live(now));

    /// <summary>One page: live documents (of one index value), by sort key then id, skipped and limited.</summary>
    public static PageCommand Page(DocumentQuery query, DateTimeOffset now)
    {
        var order = Builders<BsonDocument>.Sort;
        var sort = query.Descending
            ? order.Combine(order.Descending(Sort), order.Descending(Id))
            : order.Combine(order.Ascending(Sort), order.Ascending(Id));
        return new PageCommand(LiveWithIndex(query.IndexValue, now), sort, query.Offset, query.Limit);
    }

    /// <summary>Live documents counted per value of the indexed field, in one aggregation; documents without a value are left out.</summary>
    public static PipelineDefinition<BsonDocument, BsonDocument> CountByIndex(DateTimeOffset now) =>
        new EmptyPipelineDefinition<BsonDocument>()
            .Match(Filter.And(Filter.Ne(Index, BsonNull.Value), Live(now)))
            .Group(new BsonDocument { { Id, "$" + Index }, { "count", new BsonDocument("$sum", 1) } });

    /// <summary>
    /// Created at start: the page by index value (<c>idx, sort, _id</c>, which also serves counts per value), the page
    /// over the whole collection (<c>sort, _id</c>), and the TTL index that removes a document once its
    /// <c>expiresAt</c> has passed (<c>expireAfterSeconds: 0</c>; documents without a date never expire by it).
    /// </summary>
    public static IReadOnlyList<CreateIndexModel<BsonDocument>> Indexes()
    {
        var keys = Builders<BsonDocument>.IndexKeys;
        return
        [
            new(keys.Ascending(Index).Ascending(Sort).Ascending(Id), new CreateIndexOptions { Name = IndexSortIndexName }),
            new(keys.Ascending(Sort).Ascending(Id), new CreateIndexOptions { Name = SortIndexName }),
            new(keys.Ascending(ExpiresAt), new CreateIndexOptions { Name = ExpiryIndexName, ExpireAfter = TimeSpan.Zero }),
        ];
    }

    /// <summary>The stored form of a document (what an insert writes and a replace puts in place).</summary>
    public static BsonDocument Document(string id, BsonDocument body, long version, string? indexValue, long sortKey, DateTimeOffset? expiresAt) => new()
    {
        { Id, id },
        { Version, version },
        { Index, indexValue is null ? BsonNull.Value : new BsonString(indexValue) },
        { Sort, sortKey },
        { ExpiresAt, expiresAt is { } at ? Date(at) : BsonNull.Value },
        { Body, body },
    };

    /// <summary>A time as a BSON date: milliseconds since the Unix epoch, the precision every provider keeps.</summary>
    public static BsonDateTime Date(DateTimeOffset at) => new(at.ToUnixTimeMilliseconds());
}

/// <summary>A find with its order and paging.</summary>
internal sealed record PageCommand(FilterDefinition<BsonDocument> Filter, SortDefinition<BsonDocument> Sort, int Skip, int Limit);
