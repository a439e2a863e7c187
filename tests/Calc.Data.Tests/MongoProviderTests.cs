using Calc.Data.Marten;
using Calc.Data.Mongo;
using Calc.Data.Sqlite;
using Calc.Data.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Calc.Data.Tests;

/// <summary>
/// The MongoDB provider's options and registration, with no MongoDB server: where one is needed, the loopback's port 1
/// (no listener) stands for a server that does not answer.
/// </summary>
public sealed class MongoProviderTests : IDisposable
{
    // No listener on port 1: every connect is refused at once; short timeouts keep each test to a fraction of a second.
    private const string NoServer = "mongodb://calc:hunter2@127.0.0.1:1/calc?serverSelectionTimeoutMS=300&connectTimeoutMS=300";

    private readonly List<ServiceProvider> _services = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("mongo")]
    [InlineData("Mongo")]
    [InlineData(" MONGO ")]
    public void Provider_mongo_is_matched_regardless_of_case(string name)
    {
        var options = Orders(new() { ["Database:Provider"] = name, ["Database:ConnectionString"] = "mongodb://127.0.0.1:27017/calc" })
            .GetRequiredService<IOptions<DatabaseOptions>>().Value;

        options.Provider.ShouldBe(MongoDocumentStoreProvider.Name);
    }

    [Fact]
    public void Provider_mongo_builds_the_mongo_store_on_the_database_the_url_names()
    {
        var store = Orders(Mongo("mongodb://127.0.0.1:27017/calculations")).GetRequiredService<IDocumentStore>();

        store.ShouldBeOfType<MongoDocumentStore>().DatabaseName.ShouldBe("calculations");
    }

    [Fact]
    public void Without_a_database_in_the_url_the_database_is_calc()
    {
        var store = Orders(Mongo("mongodb://127.0.0.1:27017")).GetRequiredService<IDocumentStore>();

        store.ShouldBeOfType<MongoDocumentStore>().DatabaseName.ShouldBe("calc");
    }

    [Fact]
    public void A_service_offering_mongo_names_it_among_the_allowed_values()
    {
        var services = Orders(new() { ["Database:Provider"] = "bogus" }, providers => providers.AddMarten().AddMongo().AddSqlite());

        var error = Should.Throw<OptionsValidationException>(() => services.GetRequiredService<IDocumentRepository<Order>>());

        error.Message.ShouldBe("Database:Provider 'bogus' is not supported; allowed values: marten (alias postgres), mongo, sqlite.");
    }

    [Fact]
    public void Mongo_without_a_connection_string_fails_with_a_message_naming_the_key_and_the_format()
    {
        var services = Orders(new() { ["Database:Provider"] = "mongo" });

        var error = Should.Throw<OptionsValidationException>(() => services.GetRequiredService<IDocumentRepository<Order>>());

        error.Message.ShouldStartWith("Database:ConnectionString is required when Database:Provider is 'mongo'");
        error.Message.ShouldContain("mongodb://[user:password@]host[:port][/database][?options]");
    }

    [Theory]
    [InlineData("calc:hunter2@127.0.0.1:27017/calc", "mongodb://")]
    [InlineData("http://calc:hunter2@127.0.0.1:27017/calc", "mongodb://")]
    [InlineData("mongodb://calc:hunter2@127.0.0.1:99999/calc", "cannot read")]
    [InlineData("mongodb://calc:hunter2@127.0.0.1:27017/calc?serverSelectionTimeoutMS=soon", "cannot read")]
    [InlineData("mongodb://calc:hunter2@127.0.0.1:27017/ca$lc", "database name")]
    public void An_invalid_mongo_connection_string_fails_with_the_reason_and_without_its_password(string connectionString, string reason)
    {
        var services = Orders(Mongo(connectionString));

        var error = Should.Throw<OptionsValidationException>(() => services.GetRequiredService<IDocumentRepository<Order>>());

        error.Message.ShouldStartWith("Database:ConnectionString is not a valid mongo connection string:");
        error.Message.ShouldContain(reason);
        error.Message.ShouldNotContain("hunter2");
    }

    [Fact]
    public async Task A_host_with_an_invalid_mongo_connection_string_refuses_to_start_without_echoing_the_password()
    {
        using var host = Host(Mongo("mongodb://calc:hunter2@127.0.0.1:99999/calc"));

        var error = await Should.ThrowAsync<OptionsValidationException>(() => host.StartAsync(Ct));

        error.Message.ShouldContain("Database:ConnectionString");
        error.Message.ShouldNotContain("hunter2");
    }

    [Fact]
    public async Task A_host_on_mongo_does_not_start_when_the_server_does_not_answer_and_says_so_without_the_password()
    {
        // Starting creates the indexes: with no server the start fails, as Marten's does without PostgreSQL.
        using var host = Host(Mongo(NoServer));

        var error = await Should.ThrowAsync<TimeoutException>(() => host.StartAsync(Ct));

        error.Message.ShouldContain("127.0.0.1:1");
        error.Message.ShouldNotContain("hunter2");
    }

    [Fact]
    public async Task The_ready_health_check_is_unhealthy_when_mongo_does_not_answer()
    {
        var health = Orders(Mongo(NoServer)).GetRequiredService<HealthCheckService>();

        var report = await health.CheckHealthAsync(registration => registration.Tags.Contains("ready"), Ct);

        report.Status.ShouldBe(HealthStatus.Unhealthy);
        report.Entries[DocumentStoreHealthChecksBuilderExtensions.CheckName].Exception.ShouldBeOfType<TimeoutException>();
    }

    [Fact]
    public async Task A_repository_call_without_a_server_fails_and_the_next_call_tries_the_indexes_again()
    {
        var orders = Orders(Mongo(NoServer)).GetRequiredService<IDocumentRepository<Order>>();

        await Should.ThrowAsync<TimeoutException>(() => orders.LoadAsync("o1", Ct));
        // A failed index creation is not kept: the second call reaches the server (and fails the same way) instead of
        // failing at once with the first call's exception.
        var second = await Should.ThrowAsync<TimeoutException>(() => orders.CountAsync(cancellationToken: Ct));
        second.ShouldNotBeNull();
    }

    public void Dispose()
    {
        foreach (var services in _services)
        {
            services.Dispose();
        }
    }

    private static Dictionary<string, string?> Mongo(string connectionString) => new()
    {
        ["Database:Provider"] = "mongo",
        ["Database:ConnectionString"] = connectionString,
    };

    private static IHost Host(Dictionary<string, string?> settings)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddDocumentStore(builder.Configuration, providers => providers.AddMongo().AddSqlite());
        builder.Services.AddDocumentCollection(new DocumentCollection<Order> { Name = "orders" });
        return builder.Build();
    }

    private ServiceProvider Orders(Dictionary<string, string?> settings, Action<DocumentStoreProviders>? offer = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddDocumentStore(configuration, offer ?? (static providers => providers.AddSqlite().AddMongo()));
        services.AddDocumentCollection(new DocumentCollection<Order> { Name = "orders" });
        services.AddHealthChecks().AddDocumentStoreCheck();
        var provider = services.BuildServiceProvider();
        _services.Add(provider);
        return provider;
    }
}
