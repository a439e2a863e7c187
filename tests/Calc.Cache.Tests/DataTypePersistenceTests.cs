using System.Diagnostics;
using System.Globalization;
using Calc.Cache.Server;
using StackExchange.Redis;

namespace Calc.Cache.Tests;

/// <summary>
/// The append-only file for lists, sets, sorted sets and bitmaps: what a restart replays (the log of commands, with
/// random SPOPs and blocking pops logged as what they did) and what a rewrite writes (each key's state) give back the
/// same keyspace as before the restart.
/// </summary>
public class DataTypePersistenceTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_restart_gives_back_every_list_set_sorted_set_and_bitmap(bool rewriteFirst)
    {
        var dir = Path.Combine(Path.GetTempPath(), "calc-cache-types-" + Guid.NewGuid().ToString("N"));
        var options = CacheServerOptions.Parse(["--port", "0", "--appendonly", "yes", "--dir", dir]);
        try
        {
            string before;
            await using (var first = await CacheServer.StartAsync(options, Token))
            {
                await using var connection = await ConnectAsync(first.Port);
                var db = connection.GetDatabase();
                await WriteEveryTypeAsync(db, first.Port);
                if (rewriteFirst)
                {
                    await db.ExecuteAsync("BGREWRITEAOF");
                    await WaitForRewriteAsync(db);
                    await db.ListRightPushAsync("after-rewrite", "x"); // logged to the new file
                }

                before = await DumpAsync(db);
            }

            await using var second = await CacheServer.StartAsync(options, Token);
            await using var again = await ConnectAsync(second.Port);
            var after = await DumpAsync(again.GetDatabase());

            after.ShouldBe(before);
            before.ShouldContain("list:main=list[");
            before.ShouldContain("zset:main=zset[");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task WriteEveryTypeAsync(IDatabase db, int port)
    {
        await db.ListRightPushAsync("list:main", ["a", "b", "c", "d", "e", "f"]);
        await db.ListLeftPopAsync("list:main");
        await db.ListInsertAfterAsync("list:main", "c", "C");
        await db.ListSetByIndexAsync("list:main", 0, "B");
        await db.ListRemoveAsync("list:main", "e");
        await db.ListTrimAsync("list:main", 0, 3);
        await db.ListMoveAsync("list:main", "list:moved", ListSide.Right, ListSide.Left);
        await db.ListRightPushAsync("list:ttl", "t");
        await db.KeyExpireAsync("list:ttl", TimeSpan.FromHours(1));
        for (var i = 0; i < 200; i++)
        {
            await db.ListRightPushAsync("list:long", $"item-{i}"); // more than one rewrite chunk of 64
        }

        // A blocked pop served by a later push: the log must hold the pop, not a BLPOP to replay.
        await using (var blocked = await RawConnection.OpenAsync(port))
        {
            await blocked.SendAsync(BlockingPopTests.Resp("BLPOP", "list:queue", "0"));
            await Task.Delay(100, Token);
            await db.ListRightPushAsync("list:queue", ["first", "second"]);
            (await blocked.ReadAsync("*2\r\n$10\r\nlist:queue\r\n$5\r\nfirst\r\n".Length)).ShouldContain("first");
        }

        await db.SetAddAsync("set:main", ["1", "2", "3", "x", "y", "z", "w"]);
        await db.SetRemoveAsync("set:main", "x");
        await db.SetPopAsync("set:main", 2); // random: logged as the SREM of what it popped
        await db.SetMoveAsync("set:main", "set:other", "w");
        await db.SetAddAsync("set:other", ["w", "v"]);
        await db.SetCombineAndStoreAsync(SetOperation.Union, "set:union", "set:main", "set:other");

        await db.SortedSetAddAsync("zset:main", [new("a", 1), new("b", 2.5), new("c", double.PositiveInfinity), new("d", 0.1)]);
        await db.SortedSetIncrementAsync("zset:main", "a", 0.2);
        await db.SortedSetRemoveAsync("zset:main", "b");
        await db.SortedSetPopAsync("zset:main");
        await db.SortedSetAddAsync("zset:other", [new("a", 10), new("e", -1e300)]);
        await db.SortedSetCombineAndStoreAsync(SetOperation.Union, "zset:union", ["zset:main", "zset:other"], [2, 1]);
        await db.SortedSetRangeAndStoreAsync("zset:union", "zset:range", 0, 1);

        await db.StringSetBitAsync("bits", 3, true);
        await db.StringSetBitAsync("bits", 77, true);
        await db.StringBitOperationAsync(Bitwise.Not, "bits:not", "bits");

        await db.HashSetAsync("hash", [new("f", "v"), new("g", "w")]);
        await db.KeyDeleteAsync("set:other");
    }

    /// <summary>Every key with its type, TTL presence and contents (sets sorted), in key order.</summary>
    private static async Task<string> DumpAsync(IDatabase db)
    {
        var keys = ((RedisResult[])(await db.ExecuteAsync("KEYS", "*"))!).Select(k => (string)k!).Order(StringComparer.Ordinal);
        var lines = new List<string>();
        foreach (var key in keys)
        {
            var type = await db.KeyTypeAsync(key);
            var ttl = await db.KeyTimeToLiveAsync(key) is null ? "" : " ttl";
            var value = type switch
            {
                RedisType.List => string.Join(",", await db.ListRangeAsync(key)),
                RedisType.Set => string.Join(",", (await db.SetMembersAsync(key)).Select(m => (string)m!).Order(StringComparer.Ordinal)),
                RedisType.SortedSet => string.Join(",", (await db.SortedSetRangeByRankWithScoresAsync(key)).Select(e => $"{e.Element}={e.Score.ToString("R", CultureInfo.InvariantCulture)}")),
                RedisType.Hash => string.Join(",", (await db.HashGetAllAsync(key)).Select(e => $"{e.Name}={e.Value}").Order(StringComparer.Ordinal)),
                _ => Convert.ToHexString((byte[])(await db.StringGetAsync(key))!),
            };
            lines.Add($"{key}={type.ToString().ToLowerInvariant().Replace("sortedset", "zset", StringComparison.Ordinal)}[{value}]{ttl}");
        }

        return string.Join("\n", lines);
    }

    private static async Task WaitForRewriteAsync(IDatabase db)
    {
        var watch = Stopwatch.StartNew();
        while (!((string)(await db.ExecuteAsync("INFO", "persistence"))!).Contains("aof_rewrites:1", StringComparison.Ordinal))
        {
            watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(20), "the rewrite did not finish");
            await Task.Delay(50, Token);
        }
    }

    private static async Task<ConnectionMultiplexer> ConnectAsync(int port) =>
        await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions
        {
            EndPoints = { { "127.0.0.1", port } },
            ConfigurationChannel = string.Empty,
            AllowAdmin = true,
            SyncTimeout = 10000,
        });
}
