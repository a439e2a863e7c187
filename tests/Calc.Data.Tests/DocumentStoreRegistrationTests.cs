using System.Text.Json;
using Calc.Data.Marten;
using Calc.Data.Redis;
using Calc.Data.Sqlite;
using Calc.Data.Testing;
using Calc.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;
using ConnectionMultiplexer = StackExchange.Redis.ConnectionMultiplexer;
using RedisConnectionException = StackExchange.Redis.RedisConnectionException;

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
    public async Task Provider_marten_stores_camel_case_jsonb_in_the_collection_table_with_its_duplicated_fields()
    {
        var connectionString = await server.CreateDatabaseAsync();
        var orders = Orders(Postgres(connectionString)).GetRequiredService<IDocumentRepository<Order>>();

        await orders.InsertAsync("o1", Order.Sample(status: OrderStatus.InTransit, rank: 42), cancellationToken: Ct);

        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var command = dataSource.CreateCommand(
            "SELECT data -> 'body' ->> 'status', data -> 'body' -> 'shipTo' ->> 'street', coalesce(idx, '(none)'), sort, mt_version FROM mt_doc_orders WHERE id = 'o1'");
        await using var reader = await command.ExecuteReaderAsync(Ct);
        (await reader.ReadAsync(Ct)).ShouldBeTrue();
        // The registered collection has neither an indexed field nor a sort key: idx is null, sort 0.
        (reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3), reader.GetInt64(4))
            .ShouldBe(("inTransit", "1 Analytical Row", "(none)", 0L, 1L));
    }

    [Fact]
    public async Task Provider_marten_applies_the_schema_when_the_host_starts()
    {
        var connectionString = await server.CreateDatabaseAsync();
        var services = Orders(Postgres(connectionString));

        var hostedServices = services.GetServices<IHostedService>().ToArray();
        foreach (var hosted in hostedServices)
        {
            await hosted.StartAsync(Ct);
        }

        foreach (var hosted in hostedServices)
        {
            await hosted.StopAsync(Ct);
        }

        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var command = dataSource.CreateCommand(
            "SELECT string_agg(indexdef, ' | ' ORDER BY indexname) FROM pg_indexes WHERE tablename = 'mt_doc_orders'");
        var indexes = (string)(await command.ExecuteScalarAsync(Ct))!;
        indexes.ShouldContain("btree (idx)");
        indexes.ShouldContain("btree (sort)");
        indexes.ShouldContain("btree (expires_at)");
    }

    [Fact]
    public async Task Provider_redis_stores_camel_case_json_under_the_collection_keys()
    {
        var prefix = redis.CreateKeyPrefix();
        var orders = Orders(Redis(prefix)).GetRequiredService<IDocumentRepository<Order>>();

        await orders.InsertAsync("o1", Order.Sample(status: OrderStatus.InTransit), cancellationToken: Ct);

        await using var client = await ConnectRedisAsync();
        var redisDb = client.GetDatabase();
        var body = (string?)await redisDb.HashGetAsync($"{prefix}{{orders}}:doc:o1", "body");
        body.ShouldNotBeNull();
        body.ShouldContain("\"status\":\"inTransit\"");
        body.ShouldContain("\"shipTo\":{\"street\":\"1 Analytical Row\"");
        ((string?)await redisDb.HashGetAsync($"{prefix}{{orders}}:doc:o1", "version")).ShouldBe("1");
        (await redisDb.SortedSetLengthAsync($"{prefix}{{orders}}:ids")).ShouldBe(1);
    }

    [Fact]
    public async Task Provider_redis_gives_the_document_key_its_expiry_as_a_ttl()
    {
        var prefix = redis.CreateKeyPrefix();
        var orders = Orders(Redis(prefix)).GetRequiredService<IDocumentRepository<Order>>();
        await using var client = await ConnectRedisAsync();
        var redisDb = client.GetDatabase();
        var key = $"{prefix}{{orders}}:doc:o1";

        await orders.InsertAsync("o1", Order.Sample(), DateTimeOffset.UtcNow.AddHours(1), Ct);
        var ttl = (long)await redisDb.ExecuteAsync("PTTL", key);
        await orders.UpdateAsync("o1", Order.Sample(), expectedVersion: 1, expiresAt: null, Ct);
        var persistent = (long)await redisDb.ExecuteAsync("PTTL", key);
        await orders.UpdateAsync("o1", Order.Sample(), expectedVersion: 2, DateTimeOffset.UtcNow.AddMinutes(-1), Ct);

        ttl.ShouldBeInRange((long)TimeSpan.FromMinutes(59).TotalMilliseconds, (long)TimeSpan.FromHours(1).TotalMilliseconds);
        persistent.ShouldBe(-1);
        (await redisDb.KeyExistsAsync(key)).ShouldBeFalse();
    }

    [Fact]
    public async Task Provider_redis_sends_its_scripts_again_after_the_server_forgot_them()
    {
        var orders = Orders(Redis(redis.CreateKeyPrefix())).GetRequiredService<IDocumentRepository<Order>>();
        await orders.InsertAsync("o1", Order.Sample(), cancellationToken: Ct);
        await using var client = await ConnectRedisAsync();

        // As after a server restart; other tests running meanwhile take the same path, which is what it is for.
        await client.GetDatabase().ExecuteAsync("SCRIPT", "FLUSH");

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

    [Theory]
    [InlineData("Marten")]
    [InlineData("PostgreS")]
    [InlineData(" postgres ")]
    public void Postgres_is_an_alias_of_marten_and_names_are_matched_regardless_of_case(string name)
    {
        var options = Orders(new() { ["Database:Provider"] = name, ["Database:ConnectionString"] = "Host=127.0.0.1" })
            .GetRequiredService<IOptions<DatabaseOptions>>().Value;

        options.Provider.ShouldBe("marten");
    }

    [Fact]
    public void A_provider_the_service_does_not_offer_fails_naming_the_ones_it_offers()
    {
        var services = Orders(new() { ["Database:Provider"] = "redis", ["Database:ConnectionString"] = "127.0.0.1:6379" }, offer: providers => providers.AddMarten().AddSqlite());

        var error = Should.Throw<OptionsValidationException>(() => services.GetRequiredService<IDocumentRepository<Order>>());

        error.Message.ShouldBe("Database:Provider 'redis' is not supported; allowed values: marten (alias postgres), sqlite.");
    }

    [Fact]
    public void Offering_a_provider_twice_is_rejected()
    {
        Should.Throw<InvalidOperationException>(() => new DocumentStoreProviders().AddMarten().AddSqlite().AddMarten())
            .Message.ShouldContain("'marten'");
    }

    [Fact]
    public void AddDocumentStore_without_a_provider_is_rejected()
    {
        var configuration = new ConfigurationBuilder().Build();

        Should.Throw<InvalidOperationException>(() => new ServiceCollection().AddDocumentStore(configuration, _ => { }))
            .Message.ShouldContain("at least one provider");
    }

    [Fact]
    public void A_marten_connection_string_that_npgsql_cannot_read_fails_without_its_values()
    {
        var services = Orders(new() { ["Database:Provider"] = "marten", ["Database:ConnectionString"] = "Hots=127.0.0.1;Password=hunter2" });

        var error = Should.Throw<OptionsValidationException>(() => services.GetRequiredService<IDocumentRepository<Order>>());

        error.Message.ShouldStartWith("Database:ConnectionString is not a valid marten connection string:");
        error.Message.ShouldNotContain("hunter2");
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

        error.Message.ShouldBe("Database:Provider 'bogus' is not supported; allowed values: sqlite, marten (alias postgres), redis.");
    }

    [Fact]
    public void Postgres_without_a_connection_string_fails_with_a_message_naming_the_key()
    {
        var services = Orders(new() { ["Database:Provider"] = "postgres" });

        var error = Should.Throw<OptionsValidationException>(() => services.GetRequiredService<IDocumentRepository<Order>>());

        error.Message.ShouldStartWith("Database:ConnectionString is required when Database:Provider is 'marten'");
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
        builder.Services.AddDocumentStore(builder.Configuration, providers => providers.AddSqlite());
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
        report.Entries[DocumentStoreHealthChecksBuilderExtensions.CheckName].Exception.ShouldBeOfType<RedisConnectionException>();
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
        var redisDb = client.GetDatabase();
        var ids = $"{prefix}{{orders}}:ids";
        var hostedServices = services.GetServices<IHostedService>().ToArray();
        foreach (var hosted in hostedServices)
        {
            await hosted.StartAsync(Ct);
        }

        try
        {
            for (var attempt = 0; attempt < 100 && await redisDb.SortedSetLengthAsync(ids) > 1; attempt++)
            {
                await Task.Delay(50, Ct);
            }

            (await redisDb.SortedSetLengthAsync(ids)).ShouldBe(1);
            (await redisDb.SortedSetLengthAsync($"{prefix}{{orders}}:expiry")).ShouldBe(0);
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
        ["Database:Provider"] = "marten",
        ["Database:ConnectionString"] = connectionString,
    };

    private Dictionary<string, string?> Redis(string keyPrefix) => new()
    {
        ["Database:Provider"] = "redis",
        ["Database:ConnectionString"] = $"{redis.Endpoint},prefix={keyPrefix}",
    };

    private Task<ConnectionMultiplexer> ConnectRedisAsync() => ConnectionMultiplexer.ConnectAsync($"{redis.Endpoint},allowAdmin=true");

    private ServiceProvider Orders(Dictionary<string, string?> settings, JsonSerializerOptions? serializerOptions = null, Action<DocumentStoreProviders>? offer = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddLogging();
        offer ??= static providers => providers.AddSqlite().AddMarten().AddRedis();
        if (serializerOptions is null)
        {
            services.AddDocumentStore(configuration, offer);
        }
        else
        {
            services.AddDocumentStore(configuration, offer, serializerOptions);
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
