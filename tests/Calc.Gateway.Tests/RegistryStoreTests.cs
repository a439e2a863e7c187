using Calc.Gateway.Registry;
using Calc.Testing;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Calc.Gateway.Tests;

/// <summary>
/// The gateway's registry store (StackExchange.Redis) in the test process against a real server; closed once for
/// Calc.Cache and once for redis-server, so the registry works the same on either.
/// </summary>
public abstract class RegistryStoreContract(int port) : IAsyncLifetime
{
    private static readonly TimeSpan LongTtl = TimeSpan.FromMinutes(5);

    private readonly string _prefix = "reg" + Guid.NewGuid().ToString("N")[..12];
    private RegistryCacheConnection _connection = null!;
    private ConnectionMultiplexer _inspector = null!;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private string Endpoint => $"127.0.0.1:{port}";

    public async ValueTask InitializeAsync()
    {
        _connection = new RegistryCacheConnection(Endpoint);
        _inspector = await ConnectionMultiplexer.ConnectAsync(RegistryCacheConnection.Configure(Endpoint));
    }

    public async ValueTask DisposeAsync()
    {
        await _connection.DisposeAsync();
        await _inspector.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task Entries_of_two_services_are_read_back_with_every_field()
    {
        var store = Store(_connection);
        var a = Entry("calculations", "calc-1", 5001, processing: 2);
        var b = Entry("calculations", "calc-2", 5002);
        var c = Entry("jobs", "jobs-1", 5003);

        foreach (var entry in new[] { a, b, c })
        {
            await store.UpsertAsync(entry, LongTtl, Token);
        }

        (await store.ReadAllAsync(Token)).OrderBy(e => e.InstanceId, StringComparer.Ordinal).ShouldBe([a, b, c]);
        var ttl = await Db.KeyTimeToLiveAsync($"{_prefix}:instance:calculations:calc-1");
        ttl.ShouldNotBeNull().ShouldBeInRange(LongTtl - TimeSpan.FromSeconds(30), LongTtl);
    }

    [Fact]
    public async Task A_heartbeat_replaces_the_entry_and_renews_its_ttl()
    {
        var store = Store(_connection);
        await store.UpsertAsync(Entry("calculations", "calc-1", 5001), TimeSpan.FromSeconds(30), Token);
        var renewed = Entry("calculations", "calc-1", 5001, processing: 4);

        await store.UpsertAsync(renewed, LongTtl, Token);

        (await store.ReadAllAsync(Token)).ShouldBe([renewed]);
        (await Db.KeyTimeToLiveAsync($"{_prefix}:instance:calculations:calc-1")).ShouldNotBeNull().ShouldBeGreaterThan(TimeSpan.FromMinutes(4));
    }

    [Fact]
    public async Task An_entry_is_gone_after_its_ttl_and_its_index_field_is_dropped_on_the_next_read()
    {
        var store = Store(_connection);
        var staying = Entry("calculations", "calc-1", 5001);
        await store.UpsertAsync(staying, LongTtl, Token);
        await store.UpsertAsync(Entry("calculations", "calc-2", 5002), TimeSpan.FromMilliseconds(200), Token);

        await Task.Delay(600, Token);

        (await store.ReadAllAsync(Token)).ShouldBe([staying]);
        (await Db.HashKeysAsync($"{_prefix}:registry:calculations")).Select(f => (string)f!).ShouldBe(["calc-1"]);
    }

    [Fact]
    public async Task A_removed_instance_is_gone_and_the_others_stay()
    {
        var store = Store(_connection);
        var staying = Entry("calculations", "calc-1", 5001);
        await store.UpsertAsync(staying, LongTtl, Token);
        await store.UpsertAsync(Entry("calculations", "calc-2", 5002), LongTtl, Token);

        await store.RemoveAsync("calculations", "calc-2", Token);

        (await store.ReadAllAsync(Token)).ShouldBe([staying]);
        (await Db.KeyExistsAsync($"{_prefix}:instance:calculations:calc-2")).ShouldBeFalse();
        (await Db.HashExistsAsync($"{_prefix}:registry:calculations", "calc-2")).ShouldBeFalse();
    }

    [Fact]
    public async Task An_evicted_instance_is_removed_and_reported_evicted_until_the_eviction_ends()
    {
        var store = Store(_connection);
        await store.UpsertAsync(Entry("calculations", "calc-1", 5001), LongTtl, Token);

        await store.EvictAsync("calculations", "calc-1", TimeSpan.FromMilliseconds(500), Token);

        (await store.ReadAllAsync(Token)).ShouldBeEmpty();
        (await store.IsEvictedAsync("calculations", "calc-1", Token)).ShouldBeTrue();
        (await store.IsEvictedAsync("calculations", "calc-2", Token)).ShouldBeFalse();
        await Task.Delay(900, Token);
        (await store.IsEvictedAsync("calculations", "calc-1", Token)).ShouldBeFalse();
    }

    [Fact]
    public async Task An_entry_that_is_not_registry_json_is_skipped_and_dropped_from_the_index()
    {
        var store = Store(_connection);
        var good = Entry("calculations", "calc-1", 5001);
        await store.UpsertAsync(good, LongTtl, Token);
        await store.UpsertAsync(Entry("calculations", "calc-2", 5002), LongTtl, Token);
        await Db.StringSetAsync($"{_prefix}:instance:calculations:calc-2", "{not json");

        (await store.ReadAllAsync(Token)).ShouldBe([good]);
        (await Db.HashKeysAsync($"{_prefix}:registry:calculations")).Select(f => (string)f!).ShouldBe(["calc-1"]);
    }

    [Fact]
    public async Task The_client_sends_only_commands_the_server_answers_without_an_error()
    {
        await using var tap = new RespTap(port);
        await using var connection = new RegistryCacheConnection(tap.Endpoint);
        var store = Store(connection);

        await store.UpsertAsync(Entry("calculations", "calc-1", 5001), LongTtl, Token);
        await store.ReadAllAsync(Token);
        await store.IsEvictedAsync("calculations", "calc-1", Token);
        await store.EvictAsync("calculations", "calc-1", TimeSpan.FromSeconds(5), Token);
        await store.RemoveAsync("calculations", "calc-1", Token);
        await Task.Delay(TimeSpan.FromSeconds(2), Token); // a heartbeat or two (the client's keep-alive)

        var commands = tap.Commands();
        tap.Errors().ShouldBeEmpty($"commands sent: {string.Join(", ", commands)}");
        commands.ShouldContain("SETEX");
        commands.ShouldContain("MGET");
        // One interactive connection and no pub/sub (Calc.Cache has none): no subscription connection beside it.
        commands.ShouldNotContain("SUBSCRIBE");
        tap.Connections.ShouldBe(1);
    }

    private IDatabase Db => _inspector.GetDatabase();

    private CacheRegistryStore Store(RegistryCacheConnection connection) =>
        new(connection, Options.Create(new RegistryOptions { KeyPrefix = _prefix }));

    private static RegistryEntry Entry(string service, string instanceId, int port, int processing = 0) =>
        new(service, instanceId, new Uri($"http://127.0.0.1:{port}"), 8, processing, DateTimeOffset.FromUnixTimeMilliseconds(1_764_633_600_000));
}

public sealed class RegistryStoreAgainstCalcCacheTests(CacheServerProcess cache) : RegistryStoreContract(cache.Port);

public sealed class RegistryStoreAgainstRedisTests(RedisServer redis) : RegistryStoreContract(redis.Port), IClassFixture<RedisServer>;

/// <summary>The registry store when the cache goes away and comes back, on a cache of its own.</summary>
public sealed class RegistryStoreOutageTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_store_made_while_the_cache_is_down_fails_its_calls_as_store_failures_and_works_once_the_cache_is_up()
    {
        await using var cache = new CacheServerProcess();
        await cache.InitializeAsync();
        await cache.KillAsync();
        await using var connection = new RegistryCacheConnection(cache.Endpoint);
        var store = new CacheRegistryStore(connection, Options.Create(new RegistryOptions { KeyPrefix = "outage" }));

        var failure = await Should.ThrowAsync<Exception>(() => store.ReadAllAsync(Token));
        failure.ShouldBeAssignableTo<RedisException>(failure.ToString());

        await cache.StartAsync();
        var entry = new RegistryEntry("calculations", "calc-1", new Uri("http://127.0.0.1:5001"), 8, 0, DateTimeOffset.UnixEpoch);
        await EventuallyAsync(() => store.UpsertAsync(entry, TimeSpan.FromMinutes(1), Token));
        (await store.ReadAllAsync(Token)).ShouldBe([entry]);
    }

    [Fact]
    public async Task A_cache_killed_and_restarted_fails_calls_meanwhile_and_is_written_to_again_after()
    {
        await using var cache = new CacheServerProcess();
        await cache.InitializeAsync();
        await using var connection = new RegistryCacheConnection(cache.Endpoint);
        var store = new CacheRegistryStore(connection, Options.Create(new RegistryOptions { KeyPrefix = "outage" }));
        var entry = new RegistryEntry("calculations", "calc-1", new Uri("http://127.0.0.1:5001"), 8, 0, DateTimeOffset.UnixEpoch);
        await store.UpsertAsync(entry, TimeSpan.FromMinutes(1), Token);

        await cache.KillAsync();
        var failure = await Should.ThrowAsync<Exception>(async () =>
        {
            // The client notices the closed connection on its next read or heartbeat.
            for (var i = 0; i < 50; i++)
            {
                await store.ReadAllAsync(Token);
                await Task.Delay(100, Token);
            }
        });
        failure.ShouldBeAssignableTo<RedisException>(failure.ToString());

        await cache.StartAsync();
        (await EventuallyAsync(() => store.ReadAllAsync(Token))).ShouldBeEmpty("a killed cache comes back empty");
        // Writes may fail a moment longer than reads: until the client has seen the server's role again.
        await EventuallyAsync(() => store.UpsertAsync(entry, TimeSpan.FromMinutes(1), Token));
        (await store.ReadAllAsync(Token)).ShouldBe([entry]);
    }

    /// <summary>Retries <paramref name="call"/> while it fails with the store's failures, for up to 10 s (reconnects happen in the background).</summary>
    private static async Task EventuallyAsync(Func<Task> call) => await EventuallyAsync(async () =>
    {
        await call();
        return true;
    });

    private static async Task<T> EventuallyAsync<T>(Func<Task<T>> call)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                return await call();
            }
            catch (RedisException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100, Token);
            }
        }
    }
}
