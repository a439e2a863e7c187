using System.Text.Json;
using Calc.Data.Tests.Compliance;
using Calc.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Calc.Data.Tests;

/// <summary>How services wire the store: provider selection from configuration, validation, JSON, health, purging.</summary>
public sealed class DocumentStoreRegistrationTests(PostgresServer server) : IDisposable
{
    private readonly TempDirectory _directory = new("calc-registration-");
    private readonly List<ServiceProvider> _services = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string SqliteFile => _directory.Combine("calc.db");

    [Fact]
    public async Task Provider_sqlite_stores_camel_case_json_in_the_configured_file()
    {
        var orders = Orders(Sqlite()).GetRequiredService<IDocumentRepository<Order>>();

        await orders.InsertAsync("o1", Order.Sample(status: OrderStatus.InTransit), cancellationToken: Ct);

        var body = await ReadSqliteBodyAsync("o1");
        body.ShouldContain("\"status\":\"inTransit\"");
        body.ShouldContain("\"shipTo\":{\"street\":\"1 Analytical Row\"");
    }

    [Fact]
    public async Task Provider_postgres_stores_jsonb_in_the_configured_database()
    {
        var connectionString = await server.CreateDatabaseAsync();
        var orders = Orders(Postgres(connectionString)).GetRequiredService<IDocumentRepository<Order>>();

        await orders.InsertAsync("o1", Order.Sample(status: OrderStatus.InTransit), cancellationToken: Ct);

        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var command = dataSource.CreateCommand("SELECT body ->> 'status' FROM orders WHERE id = 'o1'");
        (await command.ExecuteScalarAsync(Ct)).ShouldBe("inTransit");
    }

    [Fact]
    public void Without_a_database_section_the_provider_is_sqlite_on_calc_db()
    {
        var options = Orders([]).GetRequiredService<IOptions<DatabaseOptions>>().Value;

        options.Provider.ShouldBe("sqlite");
        options.ConnectionString.ShouldBe("Data Source=calc.db");
        options.PurgeInterval.ShouldBe(TimeSpan.FromMinutes(1));
    }

    [Fact]
    public void Provider_names_are_matched_regardless_of_case()
    {
        var options = Orders(new() { ["Database:Provider"] = "PostgreS", ["Database:ConnectionString"] = "Host=127.0.0.1" })
            .GetRequiredService<IOptions<DatabaseOptions>>().Value;

        options.Provider.ShouldBe("postgres");
    }

    [Fact]
    public void An_unknown_provider_fails_with_a_message_naming_the_key_and_the_allowed_values()
    {
        var services = Orders(new() { ["Database:Provider"] = "bogus" });

        var error = Should.Throw<OptionsValidationException>(() => services.GetRequiredService<IDocumentRepository<Order>>());

        error.Message.ShouldBe("Database:Provider 'bogus' is not supported; allowed values: sqlite, postgres.");
    }

    [Fact]
    public void Postgres_without_a_connection_string_fails_with_a_message_naming_the_key()
    {
        var services = Orders(new() { ["Database:Provider"] = "postgres" });

        var error = Should.Throw<OptionsValidationException>(() => services.GetRequiredService<IDocumentRepository<Order>>());

        error.Message.ShouldStartWith("Database:ConnectionString is required when Database:Provider is 'postgres'");
    }

    [Fact]
    public async Task A_host_with_an_invalid_database_section_refuses_to_start()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Database:Provider"] = "bogus" });
        builder.Services.AddDocumentStore(builder.Configuration);
        using var host = builder.Build();

        var error = await Should.ThrowAsync<OptionsValidationException>(() => host.StartAsync(Ct));

        error.Message.ShouldContain("Database:Provider");
    }

    [Fact]
    public async Task Documents_are_serialized_with_the_serializer_options_given()
    {
        var snakeCase = new JsonSerializerOptions(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
        var orders = Orders(Sqlite(), snakeCase).GetRequiredService<IDocumentRepository<Order>>();

        await orders.InsertAsync("o1", Order.Sample(), cancellationToken: Ct);

        (await ReadSqliteBodyAsync("o1")).ShouldContain("\"placed_at\":");
        (await orders.LoadAsync("o1", Ct))!.Document.ShouldBeEquivalentTo(Order.Sample());
    }

    [Theory]
    [InlineData("")]
    [InlineData("Orders")]
    [InlineData("1orders")]
    [InlineData("_orders")]
    [InlineData("order-lines")]
    [InlineData("order lines")]
    [InlineData("orders\n")]
    [InlineData("orders\"; DROP TABLE x; --")]
    public void A_collection_name_that_is_not_a_lower_case_identifier_is_rejected(string name)
    {
        var services = new ServiceCollection();

        Should.Throw<ArgumentException>(() => services.AddDocumentCollection(new DocumentCollection<Order> { Name = name }))
            .Message.ShouldContain("lower case");
    }

    [Fact]
    public void A_collection_name_of_64_characters_is_rejected_and_63_accepted()
    {
        var services = new ServiceCollection();

        Should.Throw<ArgumentException>(() => services.AddDocumentCollection(new DocumentCollection<Order> { Name = new string('a', 64) }));
        services.AddDocumentCollection(new DocumentCollection<Order> { Name = new string('a', 63) });
    }

    [Fact]
    public void Registering_a_document_type_or_a_collection_name_twice_is_rejected()
    {
        var services = new ServiceCollection().AddDocumentCollection(new DocumentCollection<Order> { Name = "orders" });

        Should.Throw<InvalidOperationException>(() => services.AddDocumentCollection(new DocumentCollection<Order> { Name = "other" }));
        Should.Throw<InvalidOperationException>(() => services.AddDocumentCollection(new DocumentCollection<Address> { Name = "orders" }));
    }

    [Fact]
    public void Resolving_a_repository_without_a_document_store_says_what_is_missing()
    {
        using var services = new ServiceCollection().AddDocumentCollection(new DocumentCollection<Order> { Name = "orders" }).BuildServiceProvider();

        Should.Throw<InvalidOperationException>(() => services.GetRequiredService<IDocumentRepository<Order>>())
            .Message.ShouldContain("AddDocumentStore");
    }

    [Fact]
    public async Task The_ready_health_check_is_healthy_when_sqlite_answers()
    {
        var report = await CheckHealthAsync(Sqlite());

        report.Status.ShouldBe(HealthStatus.Healthy);
    }

    [Fact]
    public async Task The_ready_health_check_is_healthy_when_postgres_answers()
    {
        var report = await CheckHealthAsync(Postgres(await server.CreateDatabaseAsync()));

        report.Status.ShouldBe(HealthStatus.Healthy);
    }

    [Fact]
    public async Task The_ready_health_check_is_unhealthy_when_postgres_does_not_answer()
    {
        // Port 1 on the loopback has no listener: the connection is refused at once.
        var report = await CheckHealthAsync(Postgres("Host=127.0.0.1;Port=1;Username=postgres;Timeout=5"));

        report.Status.ShouldBe(HealthStatus.Unhealthy);
        report.Entries[DocumentStoreHealthChecksBuilderExtensions.CheckName].Exception.ShouldNotBeNull();
    }

    [Fact]
    public async Task The_background_purger_deletes_expired_documents()
    {
        var settings = Sqlite();
        settings["Database:PurgeInterval"] = "00:00:00.050";
        var services = Orders(settings);
        var orders = services.GetRequiredService<IDocumentRepository<Order>>();
        await orders.InsertAsync("expired", Order.Sample(), DateTimeOffset.UtcNow.AddMinutes(-1), Ct);
        await orders.InsertAsync("live", Order.Sample(), cancellationToken: Ct);
        var hostedServices = services.GetServices<IHostedService>().ToArray();
        foreach (var hosted in hostedServices)
        {
            await hosted.StartAsync(Ct);
        }

        try
        {
            for (var attempt = 0; attempt < 100 && await CountSqliteRowsAsync() > 1; attempt++)
            {
                await Task.Delay(50, Ct);
            }

            (await CountSqliteRowsAsync()).ShouldBe(1);
        }
        finally
        {
            foreach (var hosted in hostedServices)
            {
                await hosted.StopAsync(Ct);
            }
        }
    }

    public void Dispose()
    {
        foreach (var services in _services)
        {
            services.Dispose();
        }

        _directory.Dispose();
    }

    private Dictionary<string, string?> Sqlite() => new()
    {
        ["Database:Provider"] = "sqlite",
        ["Database:ConnectionString"] = $"Data Source={SqliteFile}",
    };

    private static Dictionary<string, string?> Postgres(string connectionString) => new()
    {
        ["Database:Provider"] = "postgres",
        ["Database:ConnectionString"] = connectionString,
    };

    private ServiceProvider Orders(Dictionary<string, string?> settings, JsonSerializerOptions? serializerOptions = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddLogging();
        if (serializerOptions is null)
        {
            services.AddDocumentStore(configuration);
        }
        else
        {
            services.AddDocumentStore(configuration, serializerOptions);
        }

        services.AddDocumentCollection(new DocumentCollection<Order> { Name = "orders" });
        services.AddHealthChecks().AddDocumentStoreCheck();
        var provider = services.BuildServiceProvider();
        _services.Add(provider);
        return provider;
    }

    private async Task<HealthReport> CheckHealthAsync(Dictionary<string, string?> settings)
    {
        var health = Orders(settings).GetRequiredService<HealthCheckService>();

        var report = await health.CheckHealthAsync(registration => registration.Tags.Contains("ready"), Ct);

        report.Entries.Keys.ShouldBe([DocumentStoreHealthChecksBuilderExtensions.CheckName]);
        return report;
    }

    private async Task<string> ReadSqliteBodyAsync(string id)
    {
        await using var connection = new SqliteConnection($"Data Source={SqliteFile}");
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT body FROM orders WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        return (string)(await command.ExecuteScalarAsync(Ct))!;
    }

    private async Task<long> CountSqliteRowsAsync()
    {
        await using var connection = new SqliteConnection($"Data Source={SqliteFile}");
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM orders";
        return (long)(await command.ExecuteScalarAsync(Ct))!;
    }
}
