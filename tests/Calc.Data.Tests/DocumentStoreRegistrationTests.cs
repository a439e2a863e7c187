using System.Text.Json;
using Calc.Cache.Client;
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
public sealed class DocumentStoreRegistrationTests(PostgresServer server, RedisServer redis) : IDisposable
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
    public async Task Provider_redis_stores_camel_case_json_under_the_collection_keys()
    {
        var prefix = redis.CreateKeyPrefix();
        var orders = Orders(Redis(prefix)).GetRequiredService<IDocumentRepository<Order>>();

        await orders.InsertAsync("o1", Order.Sample(status: OrderStatus.InTransit), cancellationToken: Ct);

        await using var client = await ConnectRedisAsync();
        var body = await client.HashGetAsync($"{prefix}{{orders}}:doc:o1", "body", Ct);
        body.ShouldNotBeNull();
        body.ShouldContain("\"status\":\"inTransit\"");
        body.ShouldContain("\"shipTo\":{\"street\":\"1 Analytical Row\"");
        (await client.HashGetAsync($"{prefix}{{orders}}:doc:o1", "version", Ct)).ShouldBe("1");
        (await client.ExecuteAsync("ZCARD", [$"{prefix}{{orders}}:ids"], Ct)).AsInt64().ShouldBe(1);
    }

    [Fact]
    public async Task Provider_redis_gives_the_document_key_its_expiry_as_a_ttl()
    {
        var prefix = redis.CreateKeyPrefix();
        var orders = Orders(Redis(prefix)).GetRequiredService<IDocumentRepository<Order>>();
        await using var client = await ConnectRedisAsync();
        var key = $"{prefix}{{orders}}:doc:o1";

        await orders.InsertAsync("o1", Order.Sample(), DateTimeOffset.UtcNow.AddHours(1), Ct);
        var ttl = await client.PTtlAsync(key, Ct);
        await orders.UpdateAsync("o1", Order.Sample(), expectedVersion: 1, expiresAt: null, Ct);
        var persistent = await client.PTtlAsync(key, Ct);
        await orders.UpdateAsync("o1", Order.Sample(), expectedVersion: 2, DateTimeOffset.UtcNow.AddMinutes(-1), Ct);

        ttl.ShouldBeInRange((long)TimeSpan.FromMinutes(59).TotalMilliseconds, (long)TimeSpan.FromHours(1).TotalMilliseconds);
        persistent.ShouldBe(-1);
        (await client.ExistsAsync(key, Ct)).ShouldBeFalse();
    }

    [Fact]
    public async Task Provider_redis_sends_its_scripts_again_after_the_server_forgot_them()
    {
        var orders = Orders(Redis(redis.CreateKeyPrefix())).GetRequiredService<IDocumentRepository<Order>>();
        await orders.InsertAsync("o1", Order.Sample(), cancellationToken: Ct);
        await using var client = await ConnectRedisAsync();

        // As after a server restart; other tests running meanwhile take the same path, which is what it is for.
        await client.ExecuteAsync("SCRIPT", ["FLUSH"], Ct);

        (await orders.UpdateAsync("o1", Order.Sample("grace"), expectedVersion: 1, cancellationToken: Ct)).Status.ShouldBe(WriteStatus.Written);
        (await orders.LoadAsync("o1", Ct))!.Document.Customer.ShouldBe("grace");
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
    public void Provider_redis_is_matched_regardless_of_case()
    {
        var options = Orders(new() { ["Database:Provider"] = "Redis", ["Database:ConnectionString"] = "127.0.0.1:6379" })
            .GetRequiredService<IOptions<DatabaseOptions>>().Value;

        options.Provider.ShouldBe("redis");
    }

    [Fact]
    public void An_unknown_provider_fails_with_a_message_naming_the_key_and_the_allowed_values()
    {
        var services = Orders(new() { ["Database:Provider"] = "bogus" });

        var error = Should.Throw<OptionsValidationException>(() => services.GetRequiredService<IDocumentRepository<Order>>());

        error.Message.ShouldBe("Database:Provider 'bogus' is not supported; allowed values: sqlite, postgres, redis.");
    }

    [Fact]
    public void Postgres_without_a_connection_string_fails_with_a_message_naming_the_key()
    {
        var services = Orders(new() { ["Database:Provider"] = "postgres" });

        var error = Should.Throw<OptionsValidationException>(() => services.GetRequiredService<IDocumentRepository<Order>>());

        error.Message.ShouldStartWith("Database:ConnectionString is required when Database:Provider is 'postgres'");
    }

    [Fact]
    public void Redis_without_a_connection_string_fails_with_a_message_naming_the_key_and_the_format()
    {
        var services = Orders(new() { ["Database:Provider"] = "redis" });

        var error = Should.Throw<OptionsValidationException>(() => services.GetRequiredService<IDocumentRepository<Order>>());

        error.Message.ShouldStartWith("Database:ConnectionString is required when Database:Provider is 'redis'");
        error.Message.ShouldContain("host:port[,password=...][,user=...][,prefix=...]");
    }

    [Theory]
    [InlineData("127.0.0.1:6379,password=hunter2,bogus=x", "option 'bogus' is unknown")]
    [InlineData("127.0.0.1,password=hunter2", "host:port")]
    [InlineData("127.0.0.1:70000,password=hunter2", "port")]
    [InlineData("127.0.0.1:6379,password=hunter2,prefix={calc}", "prefix")]
    public void An_invalid_redis_connection_string_fails_with_the_reason_and_without_its_values(string connectionString, string reason)
    {
        var services = Orders(new() { ["Database:Provider"] = "redis", ["Database:ConnectionString"] = connectionString });

        var error = Should.Throw<OptionsValidationException>(() => services.GetRequiredService<IDocumentRepository<Order>>());

        error.Message.ShouldStartWith("Database:ConnectionString is not a valid redis connection string:");
        error.Message.ShouldContain(reason);
        error.Message.ShouldNotContain("hunter2");
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
    public async Task The_ready_health_check_is_healthy_when_redis_answers()
    {
        var report = await CheckHealthAsync(Redis(redis.CreateKeyPrefix()));

        report.Status.ShouldBe(HealthStatus.Healthy);
    }

    [Fact]
    public async Task The_ready_health_check_is_unhealthy_when_redis_does_not_answer()
    {
        // Port 1 on the loopback has no listener: every connect attempt is refused at once.
        var report = await CheckHealthAsync(new() { ["Database:Provider"] = "redis", ["Database:ConnectionString"] = "127.0.0.1:1" });

        report.Status.ShouldBe(HealthStatus.Unhealthy);
        report.Entries[DocumentStoreHealthChecksBuilderExtensions.CheckName].Exception.ShouldBeOfType<CacheConnectionException>();
    }

    [Fact]
    public async Task The_background_purger_removes_expired_documents_from_redis()
    {
        var prefix = redis.CreateKeyPrefix();
        var settings = Redis(prefix);
        settings["Database:PurgeInterval"] = "00:00:00.050";
        var services = Orders(settings);
        var orders = services.GetRequiredService<IDocumentRepository<Order>>();
        await orders.InsertAsync("expired", Order.Sample(), DateTimeOffset.UtcNow.AddMinutes(-1), Ct);
        await orders.InsertAsync("live", Order.Sample(), cancellationToken: Ct);
        await using var client = await ConnectRedisAsync();
        var ids = $"{prefix}{{orders}}:ids";
        var hostedServices = services.GetServices<IHostedService>().ToArray();
        foreach (var hosted in hostedServices)
        {
            await hosted.StartAsync(Ct);
        }

        try
        {
            for (var attempt = 0; attempt < 100 && (await client.ExecuteAsync("ZCARD", [ids], Ct)).AsInt64() > 1; attempt++)
            {
                await Task.Delay(50, Ct);
            }

            (await client.ExecuteAsync("ZCARD", [ids], Ct)).AsInt64().ShouldBe(1);
            (await client.ExecuteAsync("ZCARD", [$"{prefix}{{orders}}:expiry"], Ct)).AsInt64().ShouldBe(0);
        }
        finally
        {
            foreach (var hosted in hostedServices)
            {
                await hosted.StopAsync(Ct);
            }
        }
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

    private Dictionary<string, string?> Redis(string keyPrefix) => new()
    {
        ["Database:Provider"] = "redis",
        ["Database:ConnectionString"] = $"{redis.Endpoint},prefix={keyPrefix}",
    };

    private Task<CacheClient> ConnectRedisAsync() => CacheClient.ConnectAsync(CacheClientOptions.FromEndpoint(redis.Endpoint), Ct);

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
