using System.Diagnostics;
using System.Text;
using Calc.LocalServers;
using Calc.Testing;
using StackExchange.Redis;

namespace Calc.Cache.Tests;

/// <summary>
/// The append-only file across databases: every logged write replays in its own database (the log records SELECT),
/// and a rewrite writes every database. The server is a process of its own, stopped by SIGTERM and started again.
/// </summary>
public class DatabasePersistenceTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_restarted_process_gives_back_each_database_keys_where_they_were(bool rewriteFirst)
    {
        var dir = Path.Combine(Path.GetTempPath(), "calc-cache-dbs-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            await using var server = await CacheServerProcess.StartNewAsync("--appendonly", "yes", "--dir", dir);
            string before;
            await using (var connection = await Clients.ConnectAsync(server.Port))
            {
                await WriteAcrossDatabasesAsync(connection);
                if (rewriteFirst)
                {
                    var admin = connection.GetDatabase();
                    await admin.ExecuteAsync("BGREWRITEAOF");
                    var watch = Stopwatch.StartNew();
                    while (!((string)(await admin.ExecuteAsync("INFO", "persistence"))!).Contains("aof_rewrites:1", StringComparison.Ordinal))
                    {
                        watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(30), "the rewrite did not finish");
                        await Task.Delay(50, Token);
                    }

                    await connection.GetDatabase(9).StringSetAsync("after-rewrite", "9"); // logged to the new file
                }

                before = await DescribeAsync(connection);
            }

            ProcessTools.Signal(server.Process.Id, "TERM");
            await server.Process.WaitForExitAsync(Token);
            await server.StartAsync();

            await using var again = await Clients.ConnectAsync(server.Port);
            var after = await DescribeAsync(again);

            after.ShouldBe(before);
            after.ShouldContain("db3: hash={f=v} list=[a,b,c] set=[1,2] str=three ttl zset=[a:1,b:2]");
            after.ShouldContain("db6: moved=0");
            after.ShouldContain("db0: script=x swapped-in=a");
            after.ShouldNotContain("db4:");
            after.ShouldContain("db7: list=[a,b,c]");
            after.ShouldContain("db8: in-script=y");
            if (rewriteFirst)
            {
                after.ShouldContain("db9: after-rewrite=9");
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_swapdb_during_a_rewrite_abandons_that_rewrite_and_a_restart_still_sees_the_swap()
    {
        var dir = Path.Combine(Path.GetTempPath(), "calc-cache-swap-" + Guid.NewGuid().ToString("N"));
        var options = Calc.Cache.Server.CacheServerOptions.Parse(["--port", "0", "--appendonly", "yes", "--dir", dir]);
        try
        {
            const int Keys = 200_000; // a rewrite that walks them takes far longer than the next command of the pipeline
            await using (var first = await Calc.Cache.Server.CacheServer.StartAsync(options, Token))
            {
                await using (var connection = await Clients.ConnectAsync(first.Port))
                {
                    var db = connection.GetDatabase(0);
                    for (var batch = 0; batch < Keys / 1000; batch++)
                    {
                        await db.StringSetAsync([.. Enumerable.Range(batch * 1000, 1000).Select(i => new KeyValuePair<RedisKey, RedisValue>($"key:{i}", i))]);
                    }
                }

                await using var raw = await RawConnection.OpenAsync(first.Port);
                await raw.SendAsync("BGREWRITEAOF\r\nSWAPDB 0 1\r\n");
                (await raw.ReadUntilAsync("+OK\r\n")).ShouldStartWith("+Background append only file rewriting started");
                var persistence = "";
                for (var attempt = 0; attempt < 600 && !persistence.Contains("aof_rewrite_in_progress:0", StringComparison.Ordinal); attempt++)
                {
                    await Task.Delay(50, Token);
                    await raw.SendAsync("INFO persistence\r\n");
                    var header = await raw.ReadUntilAsync("\r\n");
                    persistence = await raw.ReadAsync(int.Parse(header[1..^2], System.Globalization.CultureInfo.InvariantCulture) + 2);
                }

                persistence.ShouldContain("aof_last_bgrewrite_status:err");
                persistence.ShouldContain("aof_rewrites:0");
            }

            await using var second = await Calc.Cache.Server.CacheServer.StartAsync(options, Token);
            await using var again = await Clients.ConnectAsync(second.Port);
            (await again.GetDatabase(0).ExecuteAsync("DBSIZE")).ToString().ShouldBe("0");
            (await again.GetDatabase(1).ExecuteAsync("DBSIZE")).ToString().ShouldBe(Keys.ToString(System.Globalization.CultureInfo.InvariantCulture));
            (await again.GetDatabase(1).StringGetAsync("key:123")).ToString().ShouldBe("123");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task WriteAcrossDatabasesAsync(ConnectionMultiplexer connection)
    {
        var three = connection.GetDatabase(3);
        await three.StringSetAsync("str", "three", TimeSpan.FromHours(1));
        await three.HashSetAsync("hash", "f", "v");
        await three.ListRightPushAsync("list", ["a", "b", "c"]);
        await three.SetAddAsync("set", ["1", "2"]);
        await three.SortedSetAddAsync("zset", [new("a", 1), new("b", 2)]);

        var zero = connection.GetDatabase(0);
        await zero.StringSetAsync("moved", "0");
        (await zero.KeyMoveAsync("moved", 5)).ShouldBeTrue();
        await connection.GetDatabase(6).StringSetAsync("swapped-in", "a");
        await zero.ExecuteAsync("SWAPDB", 5, 6); // now db 5 holds swapped-in, db 6 holds moved
        await zero.ExecuteAsync("SWAPDB", 0, 5); // and db 0 holds swapped-in
        await connection.GetDatabase(4).StringSetAsync("flushed", "4");
        await connection.GetDatabase(4).ExecuteAsync("FLUSHDB");
        (await three.KeyCopyAsync("list", "list", destinationDatabase: 7)).ShouldBeTrue();
        await zero.ScriptEvaluateAsync("redis.call('SET', 'script', 'x'); redis.call('SELECT', 8); return redis.call('SET', 'in-script', 'y')");
    }

    /// <summary>Every non-empty database's keys and values, one line per database.</summary>
    private static async Task<string> DescribeAsync(ConnectionMultiplexer connection)
    {
        var text = new StringBuilder();
        for (var n = 0; n < 16; n++)
        {
            var db = connection.GetDatabase(n);
            var keys = ((RedisResult[])(await db.ExecuteAsync("KEYS", "*"))!).Select(k => (string)k!).Order(StringComparer.Ordinal).ToList();
            if (keys.Count == 0)
            {
                continue;
            }

            text.Append("db").Append(n).Append(':');
            foreach (var key in keys)
            {
                text.Append(' ').Append(key).Append('=');
                switch ((string)(await db.ExecuteAsync("TYPE", key))!)
                {
                    case "hash":
                        text.Append('{').AppendJoin(',', (await db.HashGetAllAsync(key)).Select(e => $"{e.Name}={e.Value}")).Append('}');
                        break;
                    case "list":
                        text.Append('[').AppendJoin(',', await db.ListRangeAsync(key)).Append(']');
                        break;
                    case "set":
                        text.Append('[').AppendJoin(',', (await db.SetMembersAsync(key)).Select(m => (string)m!).Order(StringComparer.Ordinal)).Append(']');
                        break;
                    case "zset":
                        text.Append('[').AppendJoin(',', (await db.SortedSetRangeByRankWithScoresAsync(key)).Select(e => $"{e.Element}:{e.Score}")).Append(']');
                        break;
                    default:
                        text.Append((string)(await db.StringGetAsync(key))!);
                        break;
                }

                if (await db.KeyTimeToLiveAsync(key) is not null)
                {
                    text.Append(" ttl");
                }
            }

            text.Append('\n');
        }

        return text.ToString();
    }
}
