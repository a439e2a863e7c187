using Calc.Data.Marten;
using Calc.Data.Testing;
using Calc.Testing;

namespace Calc.Data.Tests.Fixtures;

/// <summary>A fresh database on the run's PostgreSQL server, shared by one test class (each test uses its own collection).</summary>
public sealed class MartenStoreFixture(PostgresServer server) : IDocumentStoreFixture, IAsyncLifetime
{
    public IReadOnlyDictionary<string, string?> Settings { get; private set; } = new Dictionary<string, string?>();

    public void Offer(DocumentStoreProviders providers) => providers.AddMarten();

    public async ValueTask InitializeAsync()
    {
        var connectionString = await server.CreateDatabaseAsync();
        Settings = new Dictionary<string, string?>
        {
            ["Database:Provider"] = "marten",
            ["Database:ConnectionString"] = connectionString,
        };
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
