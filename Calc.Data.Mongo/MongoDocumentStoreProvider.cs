namespace Calc.Data.Mongo;

/// <summary>Offers the MongoDB provider to <c>AddDocumentStore</c>.</summary>
public static class MongoDocumentStoreProvider
{
    /// <summary>The provider's name in <c>Database:Provider</c>.</summary>
    public const string Name = "mongo";

    /// <summary>
    /// Offers <c>mongo</c>: <c>Database:ConnectionString</c> a MongoDB URL (required),
    /// <c>mongodb://[user:password@]host[:port][/database][?options]</c> or <c>mongodb+srv://...</c>, e.g.
    /// <c>mongodb://127.0.0.1:27017/calc</c>; the database defaults to <c>calc</c>. The URL's options (pool size,
    /// timeouts, TLS, auth source) go to the driver as they are. Each collection is a MongoDB collection of the same
    /// name; its indexes are created when the host starts.
    /// </summary>
    /// <param name="providers">The providers the service offers.</param>
    /// <returns>The same providers.</returns>
    public static DocumentStoreProviders AddMongo(this DocumentStoreProviders providers)
    {
        ArgumentNullException.ThrowIfNull(providers);
        return providers.Add(new DocumentStoreProvider
        {
            Name = Name,
            ConnectionStringExample = $"mongodb://127.0.0.1:27017/calc' or '{MongoConnectionString.Format}",
            ValidateConnectionString = static text =>
                MongoConnectionString.TryParse(text, out _, out var error) ? null : $"{error} (format: {MongoConnectionString.Format})",
            CreateStore = static context => new MongoDocumentStore(context),
        });
    }
}
