using Calc.Testing;
using StackExchange.Redis;

namespace Calc.Cache.Tests;

/// <summary>
/// keys-max-scan on collections: a command that would examine more elements than the limit (SMEMBERS, HGETALL,
/// LRANGE 0 -1, the set algebra, ZUNIONSTORE, a huge SRANDMEMBER count...) is refused before it starts, and HSCAN
/// iterates a big hash in steps, while another connection on the same event loop keeps getting answers quickly. The
/// server is a child process with one event loop (both connections share it).
/// </summary>
public sealed class LargeCollectionTests
{
    private const int Elements = 1_000_000;
    private const int Batch = 10_000;

    /// <summary>Generous for a shared 2-core machine; without the bound one of these commands on a million elements takes seconds there.</summary>
    private static readonly TimeSpan PingBudget = TimeSpan.FromSeconds(2);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Commands_over_a_million_elements_are_refused_and_a_full_hscan_leaves_another_clients_ping_fast()
    {
        await using var server = await CacheServerProcess.StartNewAsync("--io-threads", "1");
        await using var workerConnection = await Clients.ConnectAsync(server.Port, o => o.AsyncTimeout = o.SyncTimeout = 120_000);
        await using var pingerConnection = await Clients.ConnectAsync(server.Port);
        var worker = workerConnection.GetDatabase();
        var pinger = pingerConnection.GetDatabase();
        await FillAsync(worker);

        var pings = PingWatch.Start(pinger);

        string[][] refused =
        [
            ["SMEMBERS", "s"], ["SUNION", "s", "s"], ["SINTERSTORE", "d", "s", "s"], ["SDIFF", "s", "none"], ["SRANDMEMBER", "s", "-2000000"],
            ["HGETALL", "h"], ["HVALS", "h"], ["HRANDFIELD", "h", "-2000000", "WITHVALUES"],
            ["LRANGE", "l", "0", "-1"], ["LREM", "l", "0", "absent"], ["LINSERT", "l", "BEFORE", "absent", "x"], ["LPOS", "l", "absent"],
            ["ZRANGE", "z", "0", "-1", "WITHSCORES"], ["ZUNIONSTORE", "d", "2", "z", "s"], ["ZINTER", "2", "z", "z"], ["ZRANDMEMBER", "z", "-2000000"],
            ["DUMP", "z"], ["COPY", "l", "l-copy"],
        ];
        var answers = new List<string>();
        foreach (var command in refused)
        {
            try
            {
                await worker.ExecuteAsync(command[0], command[1..]);
                answers.Add($"{string.Join(' ', command)}: ran");
            }
            catch (RedisServerException ex)
            {
                answers.Add($"{string.Join(' ', command)}: {ex.Message}");
            }
        }

        var fields = new HashSet<string>();
        var calls = 0;
        var cursor = "0";
        var deadline = DateTime.UtcNow.AddMinutes(3);
        do
        {
            var reply = (await worker.ExecuteAsync("HSCAN", "h", cursor, "COUNT", "1000000000")).Elements();
            cursor = reply[0].Text()!;
            var pairs = reply[1].Elements();
            pairs.Length.ShouldBeLessThanOrEqualTo(2 * 100_000);
            for (var i = 0; i < pairs.Length; i += 2)
            {
                fields.Add(pairs[i].Text()!);
            }

            calls++;
        }
        while (cursor != "0" && DateTime.UtcNow < deadline);

        await pings.StopAsync();

        answers.ShouldAllBe(a => a.Contains(": ERR ", StringComparison.Ordinal) && a.Contains("more than keys-max-scan (100000)", StringComparison.Ordinal));
        answers[0].ShouldBe("SMEMBERS s: ERR SMEMBERS would examine 1000000 members, more than keys-max-scan (100000): iterate with SSCAN instead");
        answers[5].ShouldBe("HGETALL h: ERR HGETALL would examine 1000000 fields, more than keys-max-scan (100000): iterate with HSCAN instead");
        answers[8].ShouldBe("LRANGE l 0 -1: ERR LRANGE would examine 1000000 elements, more than keys-max-scan (100000): ask for a smaller range");
        fields.Count.ShouldBe(Elements);
        calls.ShouldBeGreaterThanOrEqualTo(Elements / 100_000);
        pings.Pings.ShouldBeGreaterThan(calls / 2, "the other client should have been answered between the commands");
        pings.Slowest.ShouldBeLessThan(PingBudget);

        // Within the bound the same commands run.
        (await worker.ExecuteAsync("LRANGE", "l", "0", "99999")).Elements().Length.ShouldBe(100_000);
        (await worker.ExecuteAsync("SRANDMEMBER", "s", "-100000")).Elements().Length.ShouldBe(100_000);
        (await worker.ExecuteAsync("HRANDFIELD", "h", "5")).Elements().Length.ShouldBe(5);
        ((long)await worker.ExecuteAsync("LPOS", "l", "m5", "MAXLEN", "1000")).ShouldBe(5);
    }

    /// <summary>A set, hash, list and sorted set of a million elements each, in batches.</summary>
    private static async Task FillAsync(IDatabase db)
    {
        for (var start = 0; start < Elements; start += Batch)
        {
            var members = Enumerable.Range(start, Batch).Select(i => (RedisValue)$"m{i}").ToArray();
            await Task.WhenAll(
                db.SetAddAsync("s", members),
                db.HashSetAsync("h", members.Select(m => new HashEntry(m, "v")).ToArray()),
                db.ListRightPushAsync("l", members),
                db.SortedSetAddAsync("z", members.Select((m, i) => new SortedSetEntry(m, start + i)).ToArray()))
                .WaitAsync(TimeSpan.FromMinutes(1), Token);
        }

        (await db.SetLengthAsync("s")).ShouldBe(Elements);
        (await db.HashLengthAsync("h")).ShouldBe(Elements);
    }
}

/// <summary>HSCAN's cursor over a hash past the listpack size, against redis-server's guarantees.</summary>
public sealed class HashScanTests(CacheServerFixture server, RedisServer redis)
{
    [Fact]
    public async Task Hscan_returns_every_field_present_for_the_whole_scan_while_other_fields_are_deleted_on_both_servers()
    {
        foreach (var port in new[] { server.Port, redis.Port })
        {
            var key = Tools.UniquePrefix();
            await using var connection = await Clients.ConnectAsync(port);
            var db = connection.GetDatabase();
            await db.HashSetAsync(key, Enumerable.Range(0, 2000).Select(i => new HashEntry($"f{i}", i)).ToArray());

            var seen = new HashSet<string>();
            var calls = 0;
            var cursor = "0";
            do
            {
                var reply = (await db.ExecuteAsync("HSCAN", key, cursor, "COUNT", "50")).Elements();
                cursor = reply[0].Text()!;
                var pairs = reply[1].Elements();
                pairs.Length.ShouldBeLessThan(2 * 2000, $"port {port}: a big hash comes in steps");
                for (var i = 0; i < pairs.Length; i += 2)
                {
                    seen.Add(pairs[i].Text()!);
                }

                // Odd fields go away during the scan; the even ones stay for all of it.
                await db.HashDeleteAsync(key, Enumerable.Range(calls * 20, 20).Select(i => (RedisValue)$"f{(2 * i) + 1}").ToArray());
                calls++;
            }
            while (cursor != "0" && calls < 10_000);

            cursor.ShouldBe("0");
            calls.ShouldBeGreaterThan(1);
            Enumerable.Range(0, 1000).Select(i => $"f{2 * i}").Where(f => !seen.Contains(f)).ShouldBeEmpty($"port {port}");
        }
    }

    [Fact]
    public async Task Hscan_of_a_small_hash_answers_it_whole_in_insertion_order_as_redis_does()
    {
        var answers = new List<string>();
        foreach (var port in new[] { server.Port, redis.Port })
        {
            var key = Tools.UniquePrefix();
            await using var connection = await Clients.ConnectAsync(port);
            var db = connection.GetDatabase();
            await db.HashSetAsync(key, Enumerable.Range(0, 100).Select(i => new HashEntry($"f{i}", i)).ToArray());
            await db.HashDeleteAsync(key, "f99");
            var reply = (await db.ExecuteAsync("HSCAN", key, "0", "COUNT", "5", "MATCH", "f1*")).Elements();
            answers.Add(reply[0].Text() + " " + string.Join(',', reply[1].Elements().Select(e => e.Text())));
        }

        answers[0].ShouldBe(answers[1]);
        answers[0].ShouldStartWith("0 f1,1,f10,10,");
    }
}
