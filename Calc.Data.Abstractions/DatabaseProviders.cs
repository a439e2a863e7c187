using System.Text.Json;
using Calc.Data.Postgres;
using Calc.Data.Redis;
using Calc.Data.Sqlite;

namespace Calc.Data;

/// <summary>The one place that knows the provider names and which store each one builds.</summary>
internal static class DatabaseProviders
{
    public const string Sqlite = "sqlite";
    public const string Postgres = "postgres";
    public const string Redis = "redis";
    public const string SqliteDefaultConnectionString = "Data Source=calc.db";

    public static IReadOnlyList<string> All { get; } = [Sqlite, Postgres, Redis];

    /// <summary>Returns the canonical (lower case) name of a known provider, matched case-insensitively.</summary>
    public static string? Find(string? name) =>
        All.FirstOrDefault(known => string.Equals(known, name?.Trim(), StringComparison.OrdinalIgnoreCase));

    public static IDocumentStore CreateStore(DatabaseOptions options, JsonSerializerOptions serializerOptions, TimeProvider time) =>
        Find(options.Provider) switch
        {
            Sqlite => new SqliteDocumentStore(options.ConnectionString ?? SqliteDefaultConnectionString, serializerOptions, time),
            Postgres => new PostgresDocumentStore(options.ConnectionString!, serializerOptions, time),
            Redis => new RedisDocumentStore(options.ConnectionString!, serializerOptions, time),
            _ => throw new InvalidOperationException($"Database:Provider '{options.Provider}' is not supported."),
        };
}
