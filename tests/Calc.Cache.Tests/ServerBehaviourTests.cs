using Calc.Cache.Server;
using Calc.Cache.Storage;
using Calc.Testing;
using StackExchange.Redis;

namespace Calc.Cache.Tests;

/// <summary>Expiry, concurrency and limits, against our server (shared, or a private one where settings differ).</summary>
public class ServerBehaviourTests(CacheServerFixture server)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Setnx_from_100_clients_on_one_key_has_exactly_one_winner()
    {
        var key = Tools.UniquePrefix();
        var clients = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => Clients.ConnectAsync(server.Port)));
        try
        {
            var results = await Task.WhenAll(clients.Select((c, i) => c.GetDatabase().ExecuteAsync("SETNX", key, i)));

            results.Count(r => r.Integer() == 1).ShouldBe(1);
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Incr_from_many_clients_loses_no_increment()
    {
        var key = Tools.UniquePrefix();
        var clients = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Clients.ConnectAsync(server.Port)));
        try
        {
            await Task.WhenAll(clients.Select(async c =>
            {
                for (var i = 0; i < 250; i++)
                {
                    await c.GetDatabase().StringIncrementAsync(key);
                }
            }));

            ((string?)await clients[0].GetDatabase().StringGetAsync(key)).ShouldBe("4000");
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Active_expiry_deletes_keys_that_are_never_read_again()
    {
        await using var redis = await Clients.ConnectAsync(server.Port);
        var client = redis.GetDatabase();
        var prefix = Tools.UniquePrefix();
        var before = await ExpiredKeysAsync(client);
        await Task.WhenAll(Enumerable.Range(0, 500).Select(i => client.StringSetAsync($"{prefix}:{i}", "v", TimeSpan.FromMilliseconds(50))));

        await Eventually.ValueAsync(async () => await ExpiredKeysAsync(client) - before, expired => expired >= 500, TimeSpan.FromSeconds(5),
            "500 keys expired by the server's own sweep", expired => $"{expired} expired", TimeSpan.FromMilliseconds(100), Token);
    }

    [Fact]
    public async Task Expire_options_follow_redis_semantics()
    {
        await using var redis = await Clients.ConnectAsync(server.Port);
        var client = redis.GetDatabase();
        var key = Tools.UniquePrefix();
        await client.StringSetAsync(key, "v");

        (await Exec(client, "EXPIRE", key, 100, "XX")).ShouldBe(0);
        (await Exec(client, "EXPIRE", key, 100, "GT")).ShouldBe(0);
        (await Exec(client, "EXPIRE", key, 100, "NX")).ShouldBe(1);
        (await Exec(client, "EXPIRE", key, 50, "GT")).ShouldBe(0);
        (await Exec(client, "EXPIRE", key, 50, "LT")).ShouldBe(1);
        (await Exec(client, "TTL", key)).ShouldBe(50);
        (await Exec(client, "PERSIST", key)).ShouldBe(1);
        (await Exec(client, "TTL", key)).ShouldBe(-1);
        (await Exec(client, "EXPIRE", key, -1)).ShouldBe(1);
        (await Exec(client, "EXISTS", key)).ShouldBe(0);
        (await Should.ThrowAsync<RedisServerException>(() => client.ExecuteAsync("EXPIRE", key, 1, "NX", "XX")))
            .Message.ShouldBe("ERR NX and XX, GT or LT options at the same time are not compatible");
    }

    [Fact]
    public async Task Requirepass_answers_noauth_until_auth()
    {
        await using var secured = await CacheServer.StartAsync(new CacheServerOptions { Port = 0, RequirePass = "s3cret" }, Token);
        await using var raw = await RawConnection.OpenAsync(secured.Port);

        (await raw.ExchangeAsync("GET k\r\n", "-NOAUTH Authentication required.\r\n")).ShouldBe("-NOAUTH Authentication required.\r\n");
        var wrong = "-WRONGPASS invalid username-password pair or user is disabled.\r\n";
        (await raw.ExchangeAsync("AUTH nope\r\n", wrong)).ShouldBe(wrong);
        (await raw.ExchangeAsync("AUTH s3cret\r\nGET k\r\n", "+OK\r\n$-1\r\n")).ShouldBe("+OK\r\n$-1\r\n");

        await using var client = await Clients.ConnectAsync(secured.Port, o => o.Password = "s3cret");
        (await client.GetDatabase().ExecuteAsync("PING")).Text().ShouldBe("PONG");
        await Should.ThrowAsync<RedisConnectionException>(() => Clients.ConnectAsync(secured.Port, o => o.Password = "bad"));
    }

    [Fact]
    public async Task Maxmemory_with_noeviction_refuses_writes_with_oom_but_allows_reads_and_deletes()
    {
        await using var small = await CacheServer.StartAsync(new CacheServerOptions { Port = 0, MaxMemory = 200_000 }, Token);
        await using var redis = await Clients.ConnectAsync(small.Port);
        var client = redis.GetDatabase();
        var value = new string('x', 1000);

        var error = await Should.ThrowAsync<RedisServerException>(async () =>
        {
            for (var i = 0; i < 1000; i++)
            {
                await client.StringSetAsync($"k:{i}", value);
            }
        });

        error.Message.ShouldBe("OOM command not allowed when used memory > 'maxmemory'.");
        ((string?)await client.StringGetAsync("k:1")).ShouldBe(value);
        (await client.KeyDeleteAsync("k:1")).ShouldBeTrue();
    }

    [Fact]
    public async Task Maxmemory_with_allkeys_lru_evicts_instead_of_failing()
    {
        await using var small = await CacheServer.StartAsync(new CacheServerOptions { Port = 0, MaxMemory = 200_000, MaxMemoryPolicy = EvictionPolicy.AllKeysLru }, Token);
        await using var redis = await Clients.ConnectAsync(small.Port);
        var client = redis.GetDatabase();
        var value = new string('x', 1000);

        for (var i = 0; i < 1000; i++)
        {
            await client.StringSetAsync($"k:{i}", value);
        }

        var info = (await client.ExecuteAsync("INFO", "stats")).Text()!;
        info.ShouldContain("evicted_keys:");
        (await client.ExecuteAsync("DBSIZE")).Integer().ShouldBeLessThan(200);
        ((string?)await client.StringGetAsync("k:999")).ShouldBe(value);
    }

    [Fact]
    public async Task Randomkey_returns_each_of_a_few_keys_and_never_a_deleted_one()
    {
        await using var own = await CacheServer.StartAsync(new CacheServerOptions { Port = 0 }, Token);
        await using var redis = await Clients.ConnectAsync(own.Port);
        var client = redis.GetDatabase();
        for (var i = 0; i < 12; i++)
        {
            await client.StringSetAsync($"k:{i}", "v");
        }

        for (var i = 0; i < 12; i += 3)
        {
            await client.KeyDeleteAsync($"k:{i}");
        }

        var seen = new HashSet<string>();
        for (var i = 0; i < 600 && seen.Count < 8; i++)
        {
            seen.Add((await client.ExecuteAsync("RANDOMKEY")).Text()!);
        }

        seen.ShouldBe(new[] { "k:1", "k:2", "k:4", "k:5", "k:7", "k:8", "k:10", "k:11" }, ignoreOrder: true);
        await client.ExecuteAsync("FLUSHALL");
        (await client.ExecuteAsync("RANDOMKEY")).Text().ShouldBeNull();
    }

    [Fact]
    public async Task Maxclients_refuses_the_extra_connection_with_an_error()
    {
        await using var small = await CacheServer.StartAsync(new CacheServerOptions { Port = 0, MaxClients = 2 }, Token);
        await using var first = await RawConnection.OpenAsync(small.Port);
        await using var second = await RawConnection.OpenAsync(small.Port);
        (await first.ExchangeAsync("PING\r\n", "+PONG\r\n")).ShouldBe("+PONG\r\n");
        (await second.ExchangeAsync("PING\r\n", "+PONG\r\n")).ShouldBe("+PONG\r\n");

        await using var third = await RawConnection.OpenAsync(small.Port);

        (await third.ReadAsync(100)).ShouldBe("-ERR max number of clients reached\r\n");
    }

    [Fact]
    public async Task A_client_reconnects_after_the_server_restarts()
    {
        var port = ProcessTools.FreePort();
        var first = await CacheServer.StartAsync(new CacheServerOptions { Port = port }, Token);
        await using var redis = await Clients.ConnectAsync(port, o =>
        {
            o.AbortOnConnectFail = false;
            o.BacklogPolicy = BacklogPolicy.FailFast;
            o.ReconnectRetryPolicy = new LinearRetry(100);
        });
        var client = redis.GetDatabase();
        (await client.ExecuteAsync("PING")).Text().ShouldBe("PONG");

        await first.DisposeAsync();
        await Should.ThrowAsync<RedisConnectionException>(async () =>
        {
            // The client notices the closed connection on its next read or heartbeat.
            for (var i = 0; i < 50; i++)
            {
                await client.ExecuteAsync("PING");
                await Task.Delay(100, Token);
            }
        });
        await using var second = await CacheServer.StartAsync(new CacheServerOptions { Port = port }, Token);

        // It reconnects by itself, in the background, within a few heartbeats.
        RedisResult? pong = null;
        for (var i = 0; i < 100 && pong is null; i++)
        {
            try
            {
                pong = await client.ExecuteAsync("PING");
            }
            catch (RedisConnectionException)
            {
                await Task.Delay(100, Token);
            }
        }

        pong.ShouldNotBeNull("no reconnect within 10 s").Text().ShouldBe("PONG");
    }

    private static async Task<long> ExpiredKeysAsync(IDatabase client)
    {
        var info = (await client.ExecuteAsync("INFO", "stats")).Text()!;
        var line = info.Split("\r\n").First(l => l.StartsWith("expired_keys:", StringComparison.Ordinal));
        return long.Parse(line["expired_keys:".Length..], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<long> Exec(IDatabase client, string command, params object[] args) =>
        (await client.ExecuteAsync(command, args)).Integer();
}
