using Calc.Cache.Client;
using Calc.Cache.Server;
using Calc.Cache.Storage;

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
            await using (var client = await CacheClient.ConnectAsync(new CacheClientOptions { Port = first.Port }, Token))
            {
                await client.SetAsync("plain", "v1", cancellationToken: Token);
                await client.SetAsync("ttl", "v2", TimeSpan.FromSeconds(100), cancellationToken: Token);
                await client.SetAsync("gone", "v3", cancellationToken: Token);
                await client.DeleteAsync("gone", Token);
                await client.SetAsync("short", "v4", TimeSpan.FromMilliseconds(50), cancellationToken: Token);
                await client.IncrementAsync("counter", 5, Token);
                await client.IncrementAsync("counter", 2, Token);
                await client.HashSetAsync("hash", "f", "1", Token);
                await client.ExecuteAsync("HINCRBY", ["hash", "f", 41], Token);
                await client.ExecuteAsync("RENAME", ["plain", "renamed"], Token);
                await Should.ThrowAsync<CacheServerException>(() => client.ExecuteAsync("INCR", ["hash"], Token));
            }

            // A crash in the middle of a write leaves a torn last command; loading ignores it.
            await File.AppendAllTextAsync(Path.Combine(dir, "appendonly.aof"), "*3\r\n$3\r\nSET\r\n$4\r\ntorn", Token);
            await Task.Delay(100, Token);

            await using var second = await CacheServer.StartAsync(options, Token);
            await using var reader = await CacheClient.ConnectAsync(new CacheClientOptions { Port = second.Port }, Token);
            (await reader.GetAsync("renamed", Token)).ShouldBe("v1");
            (await reader.GetAsync("plain", Token)).ShouldBeNull();
            (await reader.GetAsync("ttl", Token)).ShouldBe("v2");
            (await reader.TtlAsync("ttl", Token)).ShouldBeInRange(98, 100);
            (await reader.GetAsync("gone", Token)).ShouldBeNull();
            (await reader.GetAsync("short", Token)).ShouldBeNull();
            (await reader.GetAsync("counter", Token)).ShouldBe("7");
            (await reader.HashGetAsync("hash", "f", Token)).ShouldBe("42");
            (await reader.GetAsync("torn", Token)).ShouldBeNull();
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
        await using var client = await CacheClient.ConnectAsync(new CacheClientOptions { Port = server.Port }, Token);

        var reply = await client.ExecuteAsync("CONFIG", ["GET", "io-threads"], Token);
        reply.Elements!.Select(e => e.AsString()).ShouldBe(["io-threads", "1"]);
        await Should.ThrowAsync<CacheServerException>(() => client.ExecuteAsync("CONFIG", ["SET", "io-threads", "2"], Token));
        (await client.PingAsync(Token)).ShouldBe("PONG");
    }

    [Fact]
    public async Task Busy_poll_is_set_at_start_in_microseconds_and_zero_turns_it_off()
    {
        new CacheServerOptions().BusyPollMicroseconds.ShouldBe(50);
        Should.Throw<ArgumentException>(() => CacheServerOptions.Parse(["--busy-poll-us", "-1"])).Message.ShouldContain("between 0 and 10000");
        Should.Throw<ArgumentException>(() => CacheServerOptions.Parse(["--busy-poll-us", "10001"])).Message.ShouldContain("between 0 and 10000");
        await using var server = await CacheServer.StartAsync(CacheServerOptions.Parse(["--port", "0", "--busy-poll-us", "0"]), Token);
        await using var client = await CacheClient.ConnectAsync(new CacheClientOptions { Port = server.Port }, Token);

        var reply = await client.ExecuteAsync("CONFIG", ["GET", "busy-poll-us"], Token);
        reply.Elements!.Select(e => e.AsString()).ShouldBe(["busy-poll-us", "0"]);
        await Should.ThrowAsync<CacheServerException>(() => client.ExecuteAsync("CONFIG", ["SET", "busy-poll-us", "10"], Token));
        (await client.PingAsync(Token)).ShouldBe("PONG");
    }
}
