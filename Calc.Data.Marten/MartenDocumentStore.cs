using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using JasperFx;
using Marten;
using Npgsql;
using Weasel.Core;

namespace Calc.Data.Marten;

/// <summary>
/// One Marten <see cref="DocumentStore"/> over one pooled <see cref="NpgsqlDataSource"/>, with every registered
/// collection mapped up front (Marten's mappings are fixed when the store is built).
/// </summary>
internal sealed class MartenDocumentStore : IDocumentStore
{
    // Marten prefixes tables with mt_doc_ and names indexes after the table; PostgreSQL cuts identifiers at 63 bytes.
    private const int MaxAliasLength = 40;

    // Serializes schema changes of every Calc instance on the database ("CalcMrtn").
    private const long SchemaLockKey = 0x43616c63_4d72746e;

    // Npgsql's defaults for these keys when the connection string leaves them out (see Tuned).
    internal const int DefaultMaxAutoPrepare = 64;
    internal const int DefaultAutoPrepareMinUsages = 2;

    private readonly string _connectionString;
    private readonly NpgsqlDataSource _dataSource;
    private readonly DocumentStore _store;
    private readonly TimeProvider _time;
    private readonly Lock _schemaGate = new();
    private Task? _schema;

    public MartenDocumentStore(DocumentStoreContext context)
    {
        _time = context.Time;
        _connectionString = context.Options.ConnectionString!;
        _dataSource = NpgsqlDataSource.Create(Tuned(_connectionString));
        var options = new StoreOptions();
        options.Connection(_dataSource);
        // The schema is applied once per store, under an advisory lock (EnsureSchemaAsync), never by Marten on the side.
        options.AutoCreateSchemaObjects = AutoCreate.None;
        // Marten sets the naming policy from its casing argument and puts its own enum converter first: the service's
        // policy and converters are put back in front, so documents are the same JSON as on the other providers.
        var serializer = context.SerializerOptions;
        options.UseSystemTextJsonForSerialization(new JsonSerializerOptions(serializer), EnumStorage.AsString, configure: json =>
        {
            json.PropertyNamingPolicy = serializer.PropertyNamingPolicy;
            foreach (var converter in serializer.Converters.Reverse())
            {
                json.Converters.Insert(0, converter);
            }
        });
        var mapper = new CollectionMapper(options);
        foreach (var collection in context.Collections)
        {
            collection.Accept(mapper);
        }

        _store = new DocumentStore(options);
    }

    /// <summary>
    /// The connection string with the store's defaults for what the caller left out: <c>No Reset On Close=true</c>,
    /// <c>Max Auto Prepare=64</c>, <c>Auto Prepare Min Usages=2</c>. Keys given in the connection string win.
    /// </summary>
    /// <remarks>
    /// Npgsql's pool reset is a <c>DISCARD ALL</c> sent ahead of the first command after every return of a connection
    /// to the pool, i.e. once per repository call, and it also drops every prepared statement, so nothing could stay
    /// prepared (bench/RESULTS.md, issue 16: 10 of 22 statements per calculation, and every statement re-planned).
    /// Dropping it is safe because nothing leaves session state on a pooled connection: the provider and Marten's
    /// sessions issue no <c>SET</c>, <c>LISTEN</c>, temporary table or <c>PREPARE</c> of their own; every write is
    /// one autocommit statement or one Marten transaction (committed or rolled back before the connection goes back;
    /// Npgsql rolls back an open one itself); and the one session-level advisory lock, the schema lock, is taken on
    /// a connection of its own that is never pooled (<see cref="ApplySchemaAsync"/>). Prepared statements are then kept
    /// per physical connection: a statement run twice on it is prepared (parsed and planned once), at most 64 per
    /// connection, least recently used evicted.
    /// </remarks>
    internal static string Tuned(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!Given(connectionString, "NoResetOnClose"))
        {
            builder.NoResetOnClose = true;
        }

        if (!Given(connectionString, "MaxAutoPrepare"))
        {
            builder.MaxAutoPrepare = DefaultMaxAutoPrepare;
        }

        if (!Given(connectionString, "AutoPrepareMinUsages"))
        {
            builder.AutoPrepareMinUsages = DefaultAutoPrepareMinUsages;
        }

        return builder.ConnectionString;
    }

    // Whether the connection string sets the key itself, in either of Npgsql's spellings ("No Reset On Close",
    // "NoResetOnClose"), in any case.
    private static bool Given(string connectionString, string name)
    {
        var builder = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        return builder.Keys.Cast<string>().Any(key =>
            string.Equals(key.Replace(" ", "", StringComparison.Ordinal), name, StringComparison.OrdinalIgnoreCase));
    }

    public IDocumentRepository<T> CreateRepository<T>(DocumentCollection<T> collection) where T : class =>
        new MartenDocumentRepository<T>(this, _store, collection, _time);

    /// <summary>
    /// Builds every mapping (a mapping error fails here, at start, not at the first request: Marten's own
    /// <c>BuildAllMappings()</c> is internal, <c>AllKnownDocumentTypes()</c> is what calls it publicly) and applies the
    /// schema, as Marten's <c>ApplyAllDatabaseChangesOnStartup()</c> does. Marten takes a PostgreSQL advisory lock
    /// (<c>ApplyChangesLockId</c>) around the change, so instances starting at once apply it one after another.
    /// </summary>
    public Task InitializeAsync(CancellationToken cancellationToken) => EnsureSchemaAsync().WaitAsync(cancellationToken);

    /// <summary>Applies the schema once per store, shared by concurrent first calls; a failed attempt is retried by the next call.</summary>
    public Task EnsureSchemaAsync()
    {
        lock (_schemaGate)
        {
            if (_schema is null || _schema.IsFaulted || _schema.IsCanceled)
            {
                _schema = ApplySchemaAsync();
            }

            return _schema;
        }
    }

    private async Task ApplySchemaAsync()
    {
        await Task.Yield(); // Connect outside the caller's lock.
        _ = ((IReadOnlyStoreOptions)_store.Options).AllKnownDocumentTypes();
        // Weasel compares the schema and then runs plain CREATE TABLE / CREATE INDEX: two instances doing it at once
        // fail with "already exists". A session-level advisory lock makes every instance apply it one after another;
        // the later ones find nothing to change. The lock is session state, so it is taken on a connection outside the
        // pool (whose connections are not reset, see Tuned): should the unlock fail, closing the connection ends it.
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(_connectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using (var command = new NpgsqlCommand($"SELECT pg_advisory_lock({SchemaLockKey})", connection))
        {
            await command.ExecuteNonQueryAsync();
        }

        try
        {
            await _store.Storage.ApplyAllConfiguredChangesToDatabaseAsync(AutoCreate.CreateOrUpdate);
        }
        finally
        {
            await using var unlock = new NpgsqlCommand($"SELECT pg_advisory_unlock({SchemaLockKey})", connection);
            await unlock.ExecuteNonQueryAsync();
        }
    }

    public async Task CheckConnectionAsync(CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("SELECT 1");
        await command.ExecuteScalarAsync(cancellationToken);
    }

    public void Dispose()
    {
        _store.Dispose();
        _dataSource.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await _store.DisposeAsync();
        await _dataSource.DisposeAsync();
    }

    /// <summary>Marten's table alias for a collection: the name itself, or a shortened form with a hash when too long.</summary>
    internal static string Alias(string collectionName)
    {
        if (collectionName.Length <= MaxAliasLength)
        {
            return collectionName;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(collectionName)))[..8];
        return $"{collectionName[..(MaxAliasLength - 9)]}_{hash}";
    }

    private sealed class CollectionMapper(StoreOptions options) : IDocumentCollectionVisitor
    {
        public void Visit<T>(DocumentCollection<T> collection) where T : class =>
            options.Schema.For<MartenDocument<T>>()
                .DocumentAlias(Alias(collection.Name))
                .UseNumericRevisions(true)
                // Without this the loaded Version stays 0: Marten keeps the revision in mt_version only.
                .Metadata(metadata => metadata.Revision.MapTo(document => document.Version))
                // Columns with a btree index each: Marten filters and orders on them instead of on the JSON.
                .Duplicate(document => document.Idx)
                .Duplicate(document => document.Sort)
                .Duplicate(document => document.ExpiresAt, pgType: "timestamp with time zone");
    }
}
