using Calc.Cache.Server;

namespace Calc.Cache.Tests;

/// <summary>used_memory, maxmemory and eviction count the elements of lists, sets and sorted sets.</summary>
public class CollectionMemoryTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public static TheoryData<string, string> Types => new()
    {
        { "RPUSH", "list" },
        { "SADD", "set" },
        { "ZADD", "zset" },
    };

    [Theory]
    [MemberData(nameof(Types))]
    public async Task Used_memory_grows_with_the_elements_and_returns_when_the_key_is_deleted(string command, string type)
    {
        await using var server = await CacheServer.StartAsync(new CacheServerOptions { Port = 0 }, Token);
        await using var connection = await RawConnection.OpenAsync(server.Port);
        var baseline = await UsedMemoryAsync(connection);

        for (var batch = 0; batch < 20; batch++)
        {
            await connection.SendAsync(AddBatch(command, "big", batch, 500));
            (await connection.ReadUntilAsync("\r\n")).ShouldStartWith(":");
        }

        var full = await UsedMemoryAsync(connection);
        (full - baseline).ShouldBeGreaterThan(10_000 * 40, $"10,000 {type} elements of 24 bytes");
        (await connection.ExchangeAsync(BlockingPopTests.Resp("TYPE", "big"), $"+{type}\r\n")).ShouldBe($"+{type}\r\n");
        (await connection.ExchangeAsync(BlockingPopTests.Resp("DEL", "big"), ":1\r\n")).ShouldBe(":1\r\n");

        (await UsedMemoryAsync(connection)).ShouldBe(baseline);
    }

    [Theory]
    [MemberData(nameof(Types))]
    public async Task Over_maxmemory_writes_to_collections_get_the_oom_error_and_removals_still_work(string command, string type)
    {
        await using var server = await CacheServer.StartAsync(new CacheServerOptions { Port = 0 }, Token);
        await using var connection = await RawConnection.OpenAsync(server.Port);
        await connection.SendAsync(AddBatch(command, "k", 0, 500));
        (await connection.ReadUntilAsync("\r\n")).ShouldBe(":500\r\n");
        var used = await UsedMemoryAsync(connection);
        await connection.SendAsync(BlockingPopTests.Resp("CONFIG", "SET", "maxmemory", (used / 2).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        (await connection.ReadUntilAsync("\r\n")).ShouldBe("+OK\r\n");

        await connection.SendAsync(AddBatch(command, "k", 1, 1));
        (await connection.ReadUntilAsync("\r\n")).ShouldBe("-OOM command not allowed when used memory > 'maxmemory'.\r\n", type);
        (await connection.ExchangeAsync(BlockingPopTests.Resp("DEL", "k"), ":1\r\n")).ShouldBe(":1\r\n");
        await connection.SendAsync(AddBatch(command, "k", 1, 1));
        (await connection.ReadUntilAsync("\r\n")).ShouldBe(":1\r\n");
    }

    [Fact]
    public async Task Allkeys_random_evicts_collection_keys_to_stay_under_maxmemory()
    {
        await using var server = await CacheServer.StartAsync(
            CacheServerOptions.Parse(["--port", "0", "--maxmemory", "2mb", "--maxmemory-policy", "allkeys-random"]), Token);
        await using var connection = await RawConnection.OpenAsync(server.Port);
        for (var key = 0; key < 100; key++)
        {
            await connection.SendAsync(AddBatch(key % 3 == 0 ? "RPUSH" : key % 3 == 1 ? "SADD" : "ZADD", $"key:{key}", key, 500));
            (await connection.ReadUntilAsync("\r\n")).ShouldBe(":500\r\n");
        }

        var info = await InfoAsync(connection, "stats");
        info.ShouldNotContain("evicted_keys:0\r\n");
        (await UsedMemoryAsync(connection)).ShouldBeLessThan(2L * 1024 * 1024 + 200_000); // one batch over, at most
    }

    /// <summary>One command adding <paramref name="count"/> distinct 24-byte elements.</summary>
    private static string AddBatch(string command, string key, int batch, int count)
    {
        var args = new List<string> { command, key };
        for (var i = 0; i < count; i++)
        {
            var element = $"element-{batch:D6}-{i:D8}--";
            if (command == "ZADD")
            {
                args.Add(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            args.Add(element);
        }

        return BlockingPopTests.Resp([.. args]);
    }

    private static async Task<long> UsedMemoryAsync(RawConnection connection)
    {
        var info = await InfoAsync(connection, "memory");
        var line = info.Split("\r\n").First(l => l.StartsWith("used_memory:", StringComparison.Ordinal));
        return long.Parse(line["used_memory:".Length..], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<string> InfoAsync(RawConnection connection, string section)
    {
        await connection.SendAsync(BlockingPopTests.Resp("INFO", section));
        var header = await connection.ReadUntilAsync("\r\n");
        return await connection.ReadAsync(int.Parse(header[1..^2], System.Globalization.CultureInfo.InvariantCulture) + 2);
    }
}
