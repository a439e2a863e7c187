using System.Globalization;
using Calc.Cache.Server;
using StackExchange.Redis;

namespace Calc.Cache.Tests;

/// <summary>
/// Rewriting the append-only file (BGREWRITEAOF and the automatic rewrite): the file shrinks to the keyspace's state,
/// writes made while the rewrite runs are kept, and a restart from the rewritten file gives the same data and TTLs.
/// Each test has its own server on its own directory.
/// </summary>
public sealed class AofRewriteTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "calc-cache-rewrite-" + Guid.NewGuid().ToString("N"));

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private string AofPath => Path.Combine(_dir, "appendonly.aof");

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact]
    public async Task Bgrewriteaof_shrinks_the_file_to_the_keys_state_and_a_restart_gives_the_same_data_and_ttls()
    {
        await using (var server = await StartAsync())
        await using (var connection = await ConnectAsync(server))
        {
            var client = connection.GetDatabase();
            for (var i = 0; i < 2000; i++)
            {
                await client.StringIncrementAsync("counter");
            }

            for (var i = 0; i < 200; i++)
            {
                await client.StringSetAsync($"temp:{i}", "x");
                await client.KeyDeleteAsync($"temp:{i}");
            }

            await client.StringSetAsync("ttl", "v", TimeSpan.FromSeconds(100));
            await client.HashSetAsync("hash", "f", "1");
            await client.ExecuteAsync("HINCRBY", "hash", "f", 41);
            await client.ExecuteAsync("PEXPIRE", "hash", 200_000);
            await client.StringSetAsync("persisted", "p", TimeSpan.FromSeconds(100));
            await client.ExecuteAsync("PERSIST", "persisted");
            var before = await AofSizeAsync(client);

            (await client.ExecuteAsync("BGREWRITEAOF")).Text().ShouldBe("Background append only file rewriting started");
            var info = await WaitForRewritesAsync(client, 1);

            info["aof_last_bgrewrite_status"].ShouldBe("ok");
            var after = long.Parse(info["aof_current_size"], CultureInfo.InvariantCulture);
            after.ShouldBeLessThan(before / 10, $"{before} bytes of log for 5 keys");
            long.Parse(info["aof_base_size"], CultureInfo.InvariantCulture).ShouldBe(after);
            await client.StringSetAsync("after-rewrite", "a"); // logged in the new file
        }

        File.Exists(AofPath + ".rewrite").ShouldBeFalse();
        await using var restarted = await StartAsync();
        await using var readerConnection = await ConnectAsync(restarted);
        var reader = readerConnection.GetDatabase();
        ((string?)await reader.StringGetAsync("counter")).ShouldBe("2000");
        (await reader.ExecuteAsync("DBSIZE")).Integer().ShouldBe(5);
        ((string?)await reader.StringGetAsync("ttl")).ShouldBe("v");
        (await reader.ExecuteAsync("TTL", "ttl")).Integer().ShouldBeInRange(95, 100);
        ((string?)await reader.HashGetAsync("hash", "f")).ShouldBe("42");
        (await reader.ExecuteAsync("PTTL", "hash")).Integer().ShouldBeInRange(190_000, 200_000);
        (await reader.ExecuteAsync("TTL", "persisted")).Integer().ShouldBe(-1);
        ((string?)await reader.StringGetAsync("after-rewrite")).ShouldBe("a");
    }

    [Fact]
    public async Task Writes_made_while_a_rewrite_runs_are_all_in_the_rewritten_file()
    {
        await using (var server = await StartAsync())
        await using (var connection = await ConnectAsync(server))
        {
            var client = connection.GetDatabase();
            // Enough keys that the rewrite takes a while: the writes below overlap it.
            await client.ExecuteAsync("DEBUG", "POPULATE", 200_000, "bulk");
            for (var i = 0; i < 50; i++)
            {
                await client.StringSetAsync($"doomed:{i}", "x");
            }

            (await client.ExecuteAsync("BGREWRITEAOF")).Text().ShouldBe("Background append only file rewriting started");
            var writers = Enumerable.Range(0, 4).Select(w => Task.Run(
                async () =>
                {
                    await using var writerConnection = await ConnectAsync(server);
                    var writer = writerConnection.GetDatabase();
                    for (var i = 0; i < 500; i++)
                    {
                        await writer.StringIncrementAsync("counter");
                        await writer.ExecuteAsync("APPEND", $"log:{w}", "x");
                    }

                    for (var i = w; i < 50; i += 4)
                    {
                        await writer.KeyDeleteAsync($"doomed:{i}");
                    }

                    await writer.ExecuteAsync("RENAME", $"bulk:{w}", $"renamed:{w}");
                },
                Token));
            await Task.WhenAll(writers);
            var info = await WaitForRewritesAsync(client, 1);
            info["aof_last_bgrewrite_status"].ShouldBe("ok");
        }

        await using var restarted = await StartAsync();
        await using var readerConnection = await ConnectAsync(restarted);
        var reader = readerConnection.GetDatabase();
        ((string?)await reader.StringGetAsync("counter")).ShouldBe("2000");
        for (var w = 0; w < 4; w++)
        {
            ((string?)await reader.StringGetAsync($"log:{w}")).ShouldBe(new string('x', 500));
            ((string?)await reader.StringGetAsync($"bulk:{w}")).ShouldBeNull();
            ((string?)await reader.StringGetAsync($"renamed:{w}")).ShouldBe($"value:{w}");
        }

        (await reader.ExecuteAsync("EXISTS", Enumerable.Range(0, 50).Select(i => (object)$"doomed:{i}").ToArray())).Integer().ShouldBe(0);
        (await reader.ExecuteAsync("DBSIZE")).Integer().ShouldBe(200_000 + 1 + 4);
    }

    [Fact]
    public async Task A_second_bgrewriteaof_while_one_runs_is_refused_as_redis_refuses_it()
    {
        await using var server = await StartAsync();
        await using var clientConnection = await ConnectAsync(server);
        var client = clientConnection.GetDatabase();
        await client.ExecuteAsync("DEBUG", "POPULATE", 200_000);
        await using var connection = await RawConnection.OpenAsync(server.Port);

        // Both in one write: the second arrives while the first rewrite walks 200,000 keys.
        await connection.SendAsync("BGREWRITEAOF\r\nBGREWRITEAOF\r\n");

        (await connection.ReadUntilAsync("started\r\n")).ShouldBe("+Background append only file rewriting started\r\n");
        (await connection.ReadUntilAsync("\r\n")).ShouldBe("-ERR Background append only file rewriting already in progress\r\n");
        (await WaitForRewritesAsync(client, 1))["aof_rewrites"].ShouldBe("1");
    }

    [Fact]
    public async Task The_file_is_rewritten_by_itself_once_it_has_grown_past_the_percentage_and_the_minimum_size()
    {
        await using var server = await StartAsync("--auto-aof-rewrite-percentage", "100", "--auto-aof-rewrite-min-size", "64kb");
        await using var clientConnection = await ConnectAsync(server);
        var client = clientConnection.GetDatabase();
        var value = new string('v', 1000);
        for (var i = 0; i < 70; i++)
        {
            await client.StringSetAsync("same-key", value + i.ToString(CultureInfo.InvariantCulture)); // ~70 KB of log, one key
        }

        var info = await WaitForRewritesAsync(client, 1);

        // One key's state, plus at most the few writes that came after the file crossed 64 KB.
        long.Parse(info["aof_current_size"], CultureInfo.InvariantCulture).ShouldBeLessThan(16 * 1024);
        ((string?)await client.StringGetAsync("same-key")).ShouldBe(value + "69");
        var config = await client.ExecuteAsync("CONFIG", "GET", "auto-aof-rewrite-*");
        config.Elements().Select(e => e.Text()).ShouldBe(["auto-aof-rewrite-percentage", "100", "auto-aof-rewrite-min-size", "65536"]);
    }

    [Fact]
    public async Task Bgrewriteaof_without_appendonly_says_why_it_cannot()
    {
        await using var server = await CacheServer.StartAsync(new CacheServerOptions { Port = 0 }, Token);
        await using var clientConnection = await ConnectAsync(server);
        var client = clientConnection.GetDatabase();

        var error = await Should.ThrowAsync<RedisServerException>(() => client.ExecuteAsync("BGREWRITEAOF"));

        error.Message.ShouldContain("only with appendonly yes");
    }

    [Fact]
    public void The_directory_of_a_renamed_file_can_be_flushed_to_disk_and_a_missing_one_says_so()
    {
        Directory.CreateDirectory(_dir);

        Calc.Cache.Storage.DirectorySync.Flush(_dir).ShouldBeTrue();
        Calc.Cache.Storage.DirectorySync.Flush(Path.Combine(_dir, "missing")).ShouldBe(!OperatingSystem.IsLinux());
    }

    private Task<CacheServer> StartAsync(params string[] extra) =>
        CacheServer.StartAsync(CacheServerOptions.Parse(["--port", "0", "--appendonly", "yes", "--dir", _dir, "--enable-debug-command", "yes", .. extra]), Token);

    private static Task<ConnectionMultiplexer> ConnectAsync(CacheServer server) => Clients.ConnectAsync(server.Port);

    private static async Task<long> AofSizeAsync(IDatabase client) =>
        long.Parse((await PersistenceInfoAsync(client))["aof_current_size"], CultureInfo.InvariantCulture);

    private static async Task<Dictionary<string, string>> PersistenceInfoAsync(IDatabase client) =>
        (await client.ExecuteAsync("INFO", "persistence")).Text()!
            .Split("\r\n", StringSplitOptions.RemoveEmptyEntries)
            .Where(line => !line.StartsWith('#'))
            .Select(line => line.Split(':', 2))
            .ToDictionary(parts => parts[0], parts => parts[1]);

    private static async Task<Dictionary<string, string>> WaitForRewritesAsync(IDatabase client, long rewrites)
    {
        for (var attempt = 0; attempt < 300; attempt++)
        {
            var info = await PersistenceInfoAsync(client);
            if (info["aof_rewrite_in_progress"] == "0" && long.Parse(info["aof_rewrites"], CultureInfo.InvariantCulture) >= rewrites)
            {
                return info;
            }

            await Task.Delay(100, Token);
        }

        throw new TimeoutException("The rewrite did not finish within 30 s.");
    }
}
