using Calc.Data.Sql;

namespace Calc.Data.Sqlite;

/// <summary>Offers the SQLite provider to <c>AddDocumentStore</c>.</summary>
public static class SqliteDocumentStoreProvider
{
    /// <summary>The provider's name in <c>Database:Provider</c>.</summary>
    public const string Name = "sqlite";

    /// <summary>The connection string used when none is configured: a file in the working directory.</summary>
    public const string DefaultConnectionString = "Data Source=calc.db";

    /// <summary>
    /// Offers <c>sqlite</c>: an embedded file (<c>Database:ConnectionString</c> a Microsoft.Data.Sqlite connection
    /// string, default <c>Data Source=calc.db</c>), one table per collection, WAL mode.
    /// </summary>
    /// <param name="providers">The providers the service offers.</param>
    /// <returns>The same providers.</returns>
    public static DocumentStoreProviders AddSqlite(this DocumentStoreProviders providers)
    {
        ArgumentNullException.ThrowIfNull(providers);
        return providers.Add(new DocumentStoreProvider
        {
            Name = Name,
            DefaultConnectionString = DefaultConnectionString,
            ConnectionStringExample = DefaultConnectionString,
            CreateStore = static context => new SqliteDocumentStore(
                context.Options.ConnectionString!, context.SerializerOptions, context.Time, context.Collections),
        });
    }
}
