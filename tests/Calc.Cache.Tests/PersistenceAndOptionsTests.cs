using Calc.Cache.Server;
using Calc.Cache.Storage;
using StackExchange.Redis;

namespace Calc.Cache.Tests;

public class PersistenceAndOptionsTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task With_appendonly_a_restart_keeps_data_ttls_and_deletions()
    {
        var dir = Path.Combine(Path.GetTempPath(), "calc-cache-aof-" + Guid.NewGuid().ToString("N"));
        var options = CacheServerOptions.Parse(["--port", "0", "--appendonly", "yes", "--dir", dir]);
        try
        {
            await using (var first = await CacheServer.StartAsync(options, Token))
            await using (var connection = await Clients.ConnectAsync(first.Port))
            {
                var client = connection.GetDatabase();
                await client.StringSetAsync("plain", "v1");
                await client.StringSetAsync("ttl", "v2", TimeSpan.FromSeconds(100));
                await client.StringSetAsync("gone", "v3");
                await client.KeyDeleteAsync("gone");
                await client.StringSetAsync("short", "v4", TimeSpan.FromMilliseconds(50));
                await client.StringIncrementAsync("counter", 5);
                await client.StringIncrementAsync("counter", 2);
                await client.HashSetAsync("hash", "f", "1");
                await client.ExecuteAsync("HINCRBY", "hash", "f", 41);
                await client.ExecuteAsync("RENAME", "plain", "renamed");
                await Should.ThrowAsync<RedisServerException>(() => client.ExecuteAsync("INCR", "hash"));
            }

            // A crash in the middle of a write leaves a torn last command; loading ignores it.
            await File.AppendAllTextAsync(Path.Combine(dir, "appendonly.aof"), "*3\r\n$3\r\nSET\r\n$4\r\ntorn", Token);
            await Task.Delay(100, Token);

            await using var second = await CacheServer.StartAsync(options, Token);
            await using var readerConnection = await Clients.ConnectAsync(second.Port);
            var reader = readerConnection.GetDatabase();
            ((string?)await reader.StringGetAsync("renamed")).ShouldBe("v1");
            ((string?)await reader.StringGetAsync("plain")).ShouldBeNull();
            ((string?)await reader.StringGetAsync("ttl")).ShouldBe("v2");
            (await reader.ExecuteAsync("TTL", "ttl")).Integer().ShouldBeInRange(98, 100);
            ((string?)await reader.StringGetAsync("gone")).ShouldBeNull();
            ((string?)await reader.StringGetAsync("short")).ShouldBeNull();
            ((string?)await reader.StringGetAsync("counter")).ShouldBe("7");
            ((string?)await reader.HashGetAsync("hash", "f")).ShouldBe("42");
            ((string?)await reader.StringGetAsync("torn")).ShouldBeNull();
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("100", 100)]
    [InlineData("1k", 1000)]
    [InlineData("1kb", 1024)]
    [InlineData("100mb", 100L * 1024 * 1024)]
    [InlineData("1gb", 1024L * 1024 * 1024)]
    [InlineData("2G", 2_000_000_000)]
    public void Memory_values_accept_redis_units(string text, long expected)
    {
        CacheServerOptions.TryParseMemory(text, out var bytes).ShouldBeTrue();
        bytes.ShouldBe(expected);
    }

    [Fact]
    public void Arguments_are_read_like_redis_server()
    {
        var options = CacheServerOptions.Parse(["--port", "7000", "--bind", "127.0.0.1", "--requirepass", "pw", "--maxmemory", "100mb", "--maxmemory-policy", "allkeys-lru", "--maxclients=50", "--save", ""]);

        options.Port.ShouldBe(7000);
        options.RequirePass.ShouldBe("pw");
        options.MaxMemory.ShouldBe(100L * 1024 * 1024);
        options.MaxMemoryPolicy.ShouldBe(EvictionPolicy.AllKeysLru);
        options.MaxClients.ShouldBe(50);
        Should.Throw<ArgumentException>(() => CacheServerOptions.Parse(["--maxmemory", "lots"])).Message.ShouldContain("memory value");
        Should.Throw<ArgumentException>(() => CacheServerOptions.Parse(["--nonsense", "1"]));
    }

    [Fact]
    public async Task Io_threads_sets_the_event_loop_count_at_start_and_cannot_change_at_run_time()
    {
        CacheServerOptions.Parse(["--io-threads", "3"]).IoThreads.ShouldBe(3);
        Should.Throw<ArgumentException>(() => CacheServerOptions.Parse(["--io-threads", "0"])).Message.ShouldContain("between 1 and 128");
        await using var server = await CacheServer.StartAsync(CacheServerOptions.Parse(["--port", "0", "--io-threads", "1"]), Token);
        await using var connection = await Clients.ConnectAsync(server.Port);
        var client = connection.GetDatabase();

        var reply = await client.ExecuteAsync("CONFIG", "GET", "io-threads");
        reply.Elements().Select(e => e.Text()).ShouldBe(["io-threads", "1"]);
        await Should.ThrowAsync<RedisServerException>(() => client.ExecuteAsync("CONFIG", "SET", "io-threads", "2"));
        (await client.ExecuteAsync("PING")).Text().ShouldBe("PONG");
    }

    [Fact]
    public async Task Busy_poll_is_set_at_start_in_microseconds_and_zero_turns_it_off()
    {
        new CacheServerOptions().BusyPollMicroseconds.ShouldBe(50);
        Should.Throw<ArgumentException>(() => CacheServerOptions.Parse(["--busy-poll-us", "-1"])).Message.ShouldContain("between 0 and 10000");
        Should.Throw<ArgumentException>(() => CacheServerOptions.Parse(["--busy-poll-us", "10001"])).Message.ShouldContain("between 0 and 10000");
        await using var server = await CacheServer.StartAsync(CacheServerOptions.Parse(["--port", "0", "--busy-poll-us", "0"]), Token);
        await using var connection = await Clients.ConnectAsync(server.Port);
        var client = connection.GetDatabase();

        var reply = await client.ExecuteAsync("CONFIG", "GET", "busy-poll-us");
        reply.Elements().Select(e => e.Text()).ShouldBe(["busy-poll-us", "0"]);
        await Should.ThrowAsync<RedisServerException>(() => client.ExecuteAsync("CONFIG", "SET", "busy-poll-us", "10"));
        (await client.ExecuteAsync("PING")).Text().ShouldBe("PONG");
    }
}
