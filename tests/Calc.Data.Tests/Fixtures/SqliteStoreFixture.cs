using Calc.Data.Sqlite;
using Calc.Data.Testing;
using Calc.Testing;

namespace Calc.Data.Tests.Fixtures;

/// <summary>A SQLite file in a temporary directory, shared by one test class (each test uses its own collection).</summary>
public sealed class SqliteStoreFixture : IDocumentStoreFixture, IDisposable
{
    private readonly TempDirectory _directory = new("calc-sqlite-");

    public SqliteStoreFixture()
    {
        Settings = new Dictionary<string, string?>
        {
            ["Database:Provider"] = "sqlite",
            ["Database:ConnectionString"] = $"Data Source={_directory.Combine("calc.db")}",
        };
    }

    public IReadOnlyDictionary<string, string?> Settings { get; }

    public void Offer(DocumentStoreProviders providers) => providers.AddSqlite();

    public void Dispose() => _directory.Dispose();
}
