using Calc.Cache.Client;
using Calc.Cache.Server;
using Calc.Cache.Storage;
using Calc.Testing;

namespace Calc.Cache.Tests;

/// <summary>Expiry, concurrency and limits, against our server (shared, or a private one where settings differ).</summary>
public class ServerBehaviourTests(CacheServerFixture server)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Setnx_from_100_clients_on_one_key_has_exactly_one_winner()
    {
        var key = Tools.UniquePrefix();
        var clients = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => CacheClient.ConnectAsync(new CacheClientOptions { Port = server.Port }, Token)));
        try
        {
            var results = await Task.WhenAll(clients.Select((c, i) => c.ExecuteAsync("SETNX", [key, i], Token)));

            results.Count(r => r.AsInt64() == 1).ShouldBe(1);
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
        var clients = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => CacheClient.ConnectAsync(new CacheClientOptions { Port = server.Port }, Token)));
        try
        {
            await Task.WhenAll(clients.Select(async c =>
            {
                for (var i = 0; i < 250; i++)
                {
                    await c.IncrementAsync(key, cancellationToken: Token);
                }
            }));

            (await clients[0].GetAsync(key, Token)).ShouldBe("4000");
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
        await using var client = await CacheClient.ConnectAsync(new CacheClientOptions { Port = server.Port }, Token);
        var prefix = Tools.UniquePrefix();
        var before = await ExpiredKeysAsync(client);
        await Task.WhenAll(Enumerable.Range(0, 500).Select(i => client.SetAsync($"{prefix}:{i}", "v", TimeSpan.FromMilliseconds(50), cancellationToken: Token)));

        await Eventually.ValueAsync(async () => await ExpiredKeysAsync(client) - before, expired => expired >= 500, TimeSpan.FromSeconds(5),
            "500 keys expired by the server's own sweep", expired => $"{expired} expired", TimeSpan.FromMilliseconds(100), Token);
    }

    [Fact]
    public async Task Expire_options_follow_redis_semantics()
    {
        await using var client = await CacheClient.ConnectAsync(new CacheClientOptions { Port = server.Port }, Token);
        var key = Tools.UniquePrefix();
        await client.SetAsync(key, "v", cancellationToken: Token);

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
        (await Should.ThrowAsync<CacheServerException>(() => client.ExecuteAsync("EXPIRE", [key, 1, "NX", "XX"], Token)))
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

        await using var client = await CacheClient.ConnectAsync(new CacheClientOptions { Port = secured.Port, Password = "s3cret" }, Token);
        (await client.PingAsync(Token)).ShouldBe("PONG");
        await Should.ThrowAsync<CacheServerException>(() => CacheClient.ConnectAsync(new CacheClientOptions { Port = secured.Port, Password = "bad" }, Token));
    }

    [Fact]
    public async Task Maxmemory_with_noeviction_refuses_writes_with_oom_but_allows_reads_and_deletes()
    {
        await using var small = await CacheServer.StartAsync(new CacheServerOptions { Port = 0, MaxMemory = 200_000 }, Token);
        await using var client = await CacheClient.ConnectAsync(new CacheClientOptions { Port = small.Port }, Token);
        var value = new string('x', 1000);

        var error = await Should.ThrowAsync<CacheServerException>(async () =>
        {
            for (var i = 0; i < 1000; i++)
            {
                await client.SetAsync($"k:{i}", value, cancellationToken: Token);
            }
        });

        error.Message.ShouldBe("OOM command not allowed when used memory > 'maxmemory'.");
        (await client.GetAsync("k:1", Token)).ShouldBe(value);
        (await client.DeleteAsync("k:1", Token)).ShouldBeTrue();
    }

    [Fact]
    public async Task Maxmemory_with_allkeys_lru_evicts_instead_of_failing()
    {
        await using var small = await CacheServer.StartAsync(new CacheServerOptions { Port = 0, MaxMemory = 200_000, MaxMemoryPolicy = EvictionPolicy.AllKeysLru }, Token);
        await using var client = await CacheClient.ConnectAsync(new CacheClientOptions { Port = small.Port }, Token);
        var value = new string('x', 1000);

        for (var i = 0; i < 1000; i++)
        {
            await client.SetAsync($"k:{i}", value, cancellationToken: Token);
        }

        var info = (await client.ExecuteAsync("INFO", ["stats"], Token)).AsString()!;
        info.ShouldContain("evicted_keys:");
        (await client.ExecuteAsync("DBSIZE", [], Token)).AsInt64().ShouldBeLessThan(200);
        (await client.GetAsync("k:999", Token)).ShouldBe(value);
    }

    [Fact]
    public async Task Randomkey_returns_each_of_a_few_keys_and_never_a_deleted_one()
    {
        await using var own = await CacheServer.StartAsync(new CacheServerOptions { Port = 0 }, Token);
        await using var client = await CacheClient.ConnectAsync(new CacheClientOptions { Port = own.Port }, Token);
        for (var i = 0; i < 12; i++)
        {
            await client.SetAsync($"k:{i}", "v", cancellationToken: Token);
        }

        for (var i = 0; i < 12; i += 3)
        {
            await client.DeleteAsync($"k:{i}", Token);
        }

        var seen = new HashSet<string>();
        for (var i = 0; i < 600 && seen.Count < 8; i++)
        {
            seen.Add((await client.ExecuteAsync("RANDOMKEY", [], Token)).AsString()!);
        }

        seen.ShouldBe(new[] { "k:1", "k:2", "k:4", "k:5", "k:7", "k:8", "k:10", "k:11" }, ignoreOrder: true);
        await client.ExecuteAsync("FLUSHALL", [], Token);
        (await client.ExecuteAsync("RANDOMKEY", [], Token)).AsString().ShouldBeNull();
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
    public async Task The_client_reconnects_after_the_server_restarts()
    {
        var port = ProcessTools.FreePort();
        var first = await CacheServer.StartAsync(new CacheServerOptions { Port = port }, Token);
        await using var client = await CacheClient.ConnectAsync(new CacheClientOptions { Port = port, ReconnectMinDelay = TimeSpan.FromMilliseconds(20) }, Token);
        (await client.PingAsync(Token)).ShouldBe("PONG");

        await first.DisposeAsync();
        await Should.ThrowAsync<CacheConnectionException>(() => client.PingAsync(Token));
        await using var second = await CacheServer.StartAsync(new CacheServerOptions { Port = port }, Token);

        (await client.PingAsync(Token)).ShouldBe("PONG");
    }

    private static async Task<long> ExpiredKeysAsync(CacheClient client)
    {
        var info = (await client.ExecuteAsync("INFO", ["stats"], Token)).AsString()!;
        var line = info.Split("\r\n").First(l => l.StartsWith("expired_keys:", StringComparison.Ordinal));
        return long.Parse(line["expired_keys:".Length..], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<long> Exec(CacheClient client, string command, params object[] args) =>
        (await client.ExecuteAsync(command, args, Token)).AsInt64();
}
