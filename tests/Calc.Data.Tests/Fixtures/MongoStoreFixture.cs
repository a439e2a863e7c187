using Calc.Data.Mongo;
using Calc.Data.Testing;
using MongoDB.Bson;
using MongoDB.Driver;

namespace Calc.Data.Tests.Fixtures;

/// <summary>
/// A database of its own on the MongoDB server that <c>CALC_TEST_MONGO</c> names (a connection string), dropped at the
/// end. No MongoDB server can be installed where CI runs, so the class using it carries <c>[Trait("Requires", "mongo")]</c>
/// and the build leaves it out unless the variable is set.
/// </summary>
public sealed class MongoStoreFixture : IDocumentStoreFixture, IAsyncLifetime
{
    public const string Variable = "CALC_TEST_MONGO";

    // Short, so that a wrong or absent server fails the class in seconds rather than after the driver's 30 s per test.
    private static readonly TimeSpan ServerTimeout = TimeSpan.FromSeconds(5);

    private readonly MongoUrl _url;
    private bool _reached;

    public MongoStoreFixture()
    {
        var connectionString = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException(
                $"{Variable} is not set: give it a MongoDB connection string (e.g. mongodb://127.0.0.1:27017), or leave these tests out with --filter \"Requires!=mongo\".");
        }

        _url = new MongoUrlBuilder(connectionString)
        {
            DatabaseName = $"calc_test_{Guid.NewGuid():N}",
            ServerSelectionTimeout = ServerTimeout,
            ConnectTimeout = ServerTimeout,
        }.ToMongoUrl();
        Settings = new Dictionary<string, string?>
        {
            ["Database:Provider"] = MongoDocumentStoreProvider.Name,
            ["Database:ConnectionString"] = _url.ToString(),
        };
    }

    public IReadOnlyDictionary<string, string?> Settings { get; }

    public void Offer(DocumentStoreProviders providers) => providers.AddMongo();

    public async ValueTask InitializeAsync()
    {
        using var client = new MongoClient(_url);
        await client.GetDatabase(_url.DatabaseName).RunCommandAsync<BsonDocument>(new BsonDocument("ping", 1));
        _reached = true;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_reached)
        {
            return;
        }

        using var client = new MongoClient(_url);
        await client.DropDatabaseAsync(_url.DatabaseName);
    }
}
