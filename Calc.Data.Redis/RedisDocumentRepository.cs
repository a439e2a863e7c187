using System.Globalization;
using System.Text.Json;
using StackExchange.Redis;

namespace Calc.Data.Redis;

/// <summary>One collection in Redis; the key layout and the scripts are described on <see cref="RedisScripts"/>.</summary>
internal sealed class RedisDocumentRepository<T> : IDocumentRepository<T> where T : class
{
    // Documents removed by one purge script: small enough that a purge never blocks the server for long.
    private const int PurgeBatch = 500;

    // Documents read by one LoadMany script: one round trip each, short enough not to hold the server up.
    private const int LoadManyChunk = 500;

    private readonly RedisDocumentStore _store;
    private readonly DocumentCollection<T> _collection;
    private readonly JsonSerializerOptions _serializerOptions;
    private readonly TimeProvider _time;
    private readonly string _base;
    private readonly RedisKey[] _collectionKeys;

    public RedisDocumentRepository(RedisDocumentStore store, string keyPrefix, DocumentCollection<T> collection, JsonSerializerOptions serializerOptions, TimeProvider time)
    {
        DocumentGuard.CollectionName(collection.Name, nameof(collection));
        _store = store;
        _collection = collection;
        _serializerOptions = serializerOptions;
        _time = time;
        // The hash tag {name} puts every key of the collection in one cluster slot, as multi-key scripts require.
        _base = $"{keyPrefix}{{{collection.Name}}}";
        _collectionKeys = [$"{_base}:ids", $"{_base}:expiry", $"{_base}:entries", $"{_base}:index-values"];
    }

    public string Name => _collection.Name;

    public async Task<StoredDocument<T>?> LoadAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        var database = await _store.DatabaseAsync(cancellationToken);
        var fields = await database.HashGetAsync(DocumentKey(id), DocumentFields).WaitAsync(cancellationToken);
        if (fields[0].IsNull)
        {
            return null;
        }

        var stored = ReadDocument(id, (byte[])fields[0]!, (long)fields[1], (string?)fields[2]);
        return stored.ExpiresAt is { } expiresAt && expiresAt <= _time.GetUtcNow() ? null : stored;
    }

    public async Task<IReadOnlyList<StoredDocument<T>>> LoadManyAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken = default)
    {
        var distinct = DocumentGuard.Ids(ids, nameof(ids));
        var found = new List<StoredDocument<T>>(distinct.Length);
        // A script rather than pipelined HMGETs: one request per chunk on the multiplexed connection, and expiry is
        // filtered on the server by the application's clock, as the page script does.
        foreach (var chunk in distinct.Chunk(LoadManyChunk))
        {
            var fields = (RedisResult[])(await _store.EvalAsync(RedisScripts.LoadMany, [.. chunk.Select(DocumentKey)], [Now()], cancellationToken))!;
            for (var i = 0; i + 3 < fields.Length; i += 4)
            {
                var id = chunk[(int)fields[i] - 1];
                found.Add(ReadDocument(id, fields[i + 1], fields[i + 2], fields[i + 3]));
            }
        }

        return found;
    }

    public async Task<WriteResult<T>> InsertAsync(string id, T document, DateTimeOffset? expiresAt = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentNullException.ThrowIfNull(document);
        expiresAt = DocumentGuard.ToStoredPrecision(expiresAt);
        var written = await RunAsync(RedisScripts.Insert, id, [.. Content(document, 1, expiresAt)], cancellationToken);
        return written == 1
            ? new WriteResult<T>(WriteStatus.Written, new StoredDocument<T>(id, document, 1, expiresAt))
            : new WriteResult<T>(WriteStatus.AlreadyExists, null);
    }

    public async Task<WriteResult<T>> UpdateAsync(string id, T document, long expectedVersion, DateTimeOffset? expiresAt = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentNullException.ThrowIfNull(document);
        expiresAt = DocumentGuard.ToStoredPrecision(expiresAt);
        var version = expectedVersion + 1;
        var outcome = await RunAsync(RedisScripts.Update, id, [.. Content(document, version, expiresAt), Text(expectedVersion)], cancellationToken);
        return outcome switch
        {
            1 => new WriteResult<T>(WriteStatus.Written, new StoredDocument<T>(id, document, version, expiresAt)),
            0 => new WriteResult<T>(WriteStatus.VersionConflict, null),
            _ => new WriteResult<T>(WriteStatus.NotFound, null),
        };
    }

    public async Task<bool> DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        return await RunAsync(RedisScripts.Delete, id, [], cancellationToken) == 1;
    }

    public async Task<IReadOnlyList<StoredDocument<T>>> QueryAsync(DocumentQuery query, CancellationToken cancellationToken = default)
    {
        DocumentGuard.Query(query);
        RedisKey walked = query.IndexValue is null ? _collectionKeys[0] : IndexKey(query.IndexValue);
        var reply = await _store.EvalAsync(
            RedisScripts.Page,
            [walked, _collectionKeys[1]],
            [_base, Now(), Text(query.Offset), Text(query.Limit), query.Descending ? "1" : "0"],
            cancellationToken);
        var fields = (RedisResult[])reply!;
        var page = new List<StoredDocument<T>>(fields.Length / 4);
        for (var i = 0; i + 3 < fields.Length; i += 4)
        {
            page.Add(ReadDocument((string)fields[i]!, fields[i + 1], fields[i + 2], fields[i + 3]));
        }

        return page;
    }

    public async Task<long> CountAsync(string? indexValue = null, CancellationToken cancellationToken = default)
    {
        var reply = await _store.EvalAsync(
            RedisScripts.Count,
            _collectionKeys,
            indexValue is null ? [_base, Now(), "all"] : [_base, Now(), "one", indexValue],
            cancellationToken);
        return (long)reply;
    }

    public async Task<IReadOnlyDictionary<string, long>> CountByIndexAsync(CancellationToken cancellationToken = default)
    {
        var fields = (RedisResult[])(await _store.EvalAsync(RedisScripts.Count, _collectionKeys, [_base, Now(), "by"], cancellationToken))!;
        var counts = new Dictionary<string, long>(fields.Length / 2, StringComparer.Ordinal);
        for (var i = 0; i + 1 < fields.Length; i += 2)
        {
            counts[(string)fields[i]!] = (long)fields[i + 1];
        }

        return counts;
    }

    public async Task<long> PurgeExpiredAsync(CancellationToken cancellationToken = default)
    {
        // Each round removes what it returns from the expiry zset, so the loop ends; the bound is a guard only.
        var now = Now();
        long purged = 0;
        for (var round = 0; round < 100_000; round++)
        {
            var removed = (long)await _store.EvalAsync(RedisScripts.Purge, _collectionKeys, [_base, now, Text(PurgeBatch)], cancellationToken);
            purged += removed;
            if (removed < PurgeBatch)
            {
                break;
            }
        }

        return purged;
    }

    private async Task<long> RunAsync(RedisScript script, string id, RedisValue[] arguments, CancellationToken cancellationToken)
    {
        RedisValue[] argv = [_base, Now(), id, .. arguments];
        return (long)await _store.EvalAsync(script, [.. _collectionKeys, DocumentKey(id)], argv, cancellationToken);
    }

    /// <summary>ARGV 4 to 7 of the write scripts: body, version, entry, expires_at.</summary>
    private RedisValue[] Content(T document, long version, DateTimeOffset? expiresAt)
    {
        var index = _collection.Index(document);
        var sort = unchecked((ulong)_collection.SortKey(document) ^ 0x8000_0000_0000_0000UL).ToString("x16", CultureInfo.InvariantCulture);
        var entry = index is null ? sort + "0" : sort + "1" + index;
        return
        [
            JsonSerializer.SerializeToUtf8Bytes(document, _serializerOptions),
            Text(version),
            entry,
            expiresAt is { } at ? Text(at.ToUnixTimeMilliseconds()) : "",
        ];
    }

    private StoredDocument<T> ReadDocument(string id, RedisResult body, RedisResult version, RedisResult expiresAt) =>
        ReadDocument(id, (byte[])body!, (long)version, (string?)expiresAt);

    private StoredDocument<T> ReadDocument(string id, byte[] body, long version, string? expiresAt)
    {
        var document = JsonSerializer.Deserialize<T>(body, _serializerOptions)
            ?? throw new InvalidDataException($"Document '{id}' in collection '{Name}' is JSON null.");
        var expires = expiresAt is { Length: > 0 } milliseconds
            ? DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(milliseconds, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture))
            : (DateTimeOffset?)null;
        return new StoredDocument<T>(id, document, version, expires);
    }

    private static readonly RedisValue[] DocumentFields = ["body", "version", "expires_at"];

    private RedisKey DocumentKey(string id) => $"{_base}:doc:{id}";

    private RedisKey IndexKey(string value) => $"{_base}:idx:{value}";

    private string Now() => Text(_time.GetUtcNow().ToUnixTimeMilliseconds());

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
}
