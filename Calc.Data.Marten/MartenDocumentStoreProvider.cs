using Npgsql;

namespace Calc.Data.Marten;

/// <summary>Offers the Marten (PostgreSQL) provider to <c>AddDocumentStore</c>.</summary>
public static class MartenDocumentStoreProvider
{
    /// <summary>The provider's name in <c>Database:Provider</c>.</summary>
    public const string Name = "marten";

    /// <summary>The older name of the PostgreSQL provider, still accepted, so existing configuration keeps working.</summary>
    public const string PostgresAlias = "postgres";

    /// <summary>
    /// Offers <c>marten</c> (alias <c>postgres</c>): <c>Database:ConnectionString</c> an Npgsql connection string
    /// (required). One pooled <see cref="NpgsqlDataSource"/> per store; the schema is applied when the host starts.
    /// </summary>
    /// <param name="providers">The providers the service offers.</param>
    /// <returns>The same providers.</returns>
    public static DocumentStoreProviders AddMarten(this DocumentStoreProviders providers)
    {
        ArgumentNullException.ThrowIfNull(providers);
        return providers.Add(new DocumentStoreProvider
        {
            Name = Name,
            Aliases = [PostgresAlias],
            ConnectionStringExample = "Host=localhost;Username=calc;Password=...;Database=calc",
            ValidateConnectionString = static text =>
            {
                try
                {
                    _ = new NpgsqlConnectionStringBuilder(text);
                    return null;
                }
                catch (ArgumentException)
                {
                    // The builder's message quotes the offending part, which may be a password.
                    return "it is not an Npgsql connection string (Host=...;Username=...;Database=...)";
                }
            },
            CreateStore = static context => new MartenDocumentStore(context),
        });
    }
}
