using System.Text.Json;
using MongoDB.Bson;
using MongoDB.Driver;

namespace Calc.Data.Mongo;

/// <summary>One <see cref="MongoClient"/> (its own connection pool) and database for every collection of the service.</summary>
internal sealed class MongoDocumentStore : IDocumentStore
{
    private readonly MongoClient _client;
    private readonly IMongoDatabase _database;
    private readonly JsonSerializerOptions _serializerOptions;
    private readonly TimeProvider _time;
    private readonly IReadOnlyList<IDocumentCollection> _collections;
    private readonly Lock _indexGate = new();
    private readonly Dictionary<string, Task> _indexes = new(StringComparer.Ordinal);

    public MongoDocumentStore(DocumentStoreContext context)
    {
        var url = MongoConnectionString.Parse(context.Options.ConnectionString!);
        var settings = MongoClientSettings.FromUrl(url);
        settings.ApplicationName ??= "calc-data";
        _client = new MongoClient(settings);
        _database = _client.GetDatabase(url.DatabaseName ?? MongoConnectionString.DefaultDatabase);
        _serializerOptions = context.SerializerOptions;
        _time = context.Time;
        _collections = context.Collections;
    }

    public string DatabaseName => _database.DatabaseNamespace.DatabaseName;

    public IDocumentRepository<T> CreateRepository<T>(DocumentCollection<T> collection) where T : class =>
        new MongoDocumentRepository<T>(this, _database, collection, _serializerOptions, _time);

    /// <summary>
    /// Creates the indexes of every collection (<see cref="MongoCommands.Indexes"/>). Creating an index that exists
    /// with the same keys, name and options is a no-op on the server, so instances starting at once do not conflict.
    /// </summary>
    public Task InitializeAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(_collections.Select(collection => EnsureIndexesAsync(collection.Name))).WaitAsync(cancellationToken);

    /// <summary>Creates a collection's indexes once per store, shared by concurrent first calls; a failed attempt is retried by the next call.</summary>
    public Task EnsureIndexesAsync(string collectionName)
    {
        lock (_indexGate)
        {
            if (!_indexes.TryGetValue(collectionName, out var indexes) || indexes.IsFaulted || indexes.IsCanceled)
            {
                indexes = CreateIndexesAsync(collectionName);
                _indexes[collectionName] = indexes;
            }

            return indexes;
        }
    }

    private async Task CreateIndexesAsync(string collectionName)
    {
        await Task.Yield(); // Talk to the server outside the caller's lock.
        await _database.GetCollection<BsonDocument>(collectionName).Indexes.CreateManyAsync(MongoCommands.Indexes());
    }

    public Task CheckConnectionAsync(CancellationToken cancellationToken) =>
        _database.RunCommandAsync<BsonDocument>(new BsonDocument("ping", 1), cancellationToken: cancellationToken);

    public void Dispose() => _client.Dispose();

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }
}
