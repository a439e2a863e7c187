using Calc.Testing;
using static Calc.Cache.Tests.BlockingPopTests;

namespace Calc.Cache.Tests;

/// <summary>
/// Blocking pops and transactions over raw RESP, the same bytes expected from our server and from a real
/// redis-server: a blocking command inside MULTI does not block, BLPOP 0 and BLMPOP wait for another client's push,
/// and a WATCHed key written by another client makes EXEC answer the null array.
/// </summary>
public sealed class BlockingTransactionsAgainstRedisTests(CacheServerFixture server, RedisServer redis)
{
    public static TheoryData<string> Servers => ["calc", "redis"];

    private int Port(string name) => name == "calc" ? server.Port : redis.Port;

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task Blpop_on_an_empty_list_inside_multi_answers_nil_at_once_in_exec(string name)
    {
        var key = Tools.UniquePrefix();
        await using var client = await RawConnection.OpenAsync(Port(name));

        await client.SendAsync(Resp("MULTI") + Resp("BLPOP", key, "0") + Resp("BRPOP", key, key + ":2", "0") + Resp("BLMPOP", "0", "1", key, "LEFT")
            + Resp("LPUSH", key + ":3", "x") + Resp("EXEC"));

        // BLPOP 0 outside a transaction would wait for ever; inside EXEC the pops answer the null array at once.
        const string expected = "+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*4\r\n*-1\r\n*-1\r\n*-1\r\n:1\r\n";
        (await client.ReadAsync(expected.Length, TimeSpan.FromSeconds(5))).ShouldBe(expected, name);
        (await client.ExchangeAsync(Resp("PING"), "+PONG\r\n")).ShouldBe("+PONG\r\n", name);
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task Blpop_with_timeout_zero_on_an_empty_list_waits_until_another_client_pushes(string name)
    {
        var key = Tools.UniquePrefix();
        await using var blocked = await RawConnection.OpenAsync(Port(name));
        await using var pusher = await RawConnection.OpenAsync(Port(name));

        await blocked.SendAsync(Resp("BLPOP", key, "0"));
        (await blocked.ReadAsync(1, TimeSpan.FromSeconds(1.5))).ShouldBeEmpty(name);
        (await pusher.ExchangeAsync(Resp("RPUSH", key, "a", "b"), ":2\r\n")).ShouldBe(":2\r\n", name);

        var expected = $"*2\r\n${key.Length}\r\n{key}\r\n$1\r\na\r\n";
        (await blocked.ReadAsync(expected.Length)).ShouldBe(expected, name);
        (await pusher.ExchangeAsync(Resp("LRANGE", key, "0", "-1"), "*1\r\n$1\r\nb\r\n")).ShouldBe("*1\r\n$1\r\nb\r\n", name);
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task Blmpop_on_empty_lists_waits_until_another_client_pushes_and_then_pops_up_to_its_count(string name)
    {
        var key = Tools.UniquePrefix();
        await using var blocked = await RawConnection.OpenAsync(Port(name));
        await using var pusher = await RawConnection.OpenAsync(Port(name));

        await blocked.SendAsync(Resp("BLMPOP", "0", "2", key + ":a", key + ":b", "RIGHT", "COUNT", "2") + Resp("PING"));
        (await blocked.ReadAsync(1, TimeSpan.FromSeconds(1.5))).ShouldBeEmpty(name);
        (await pusher.ExchangeAsync(Resp("RPUSH", key + ":b", "x", "y", "z"), ":3\r\n")).ShouldBe(":3\r\n", name);

        var served = $"*2\r\n${key.Length + 2}\r\n{key}:b\r\n*2\r\n$1\r\nz\r\n$1\r\ny\r\n+PONG\r\n";
        (await blocked.ReadAsync(served.Length)).ShouldBe(served, name);
        (await pusher.ExchangeAsync(Resp("LRANGE", key + ":b", "0", "-1"), "*1\r\n$1\r\nx\r\n")).ShouldBe("*1\r\n$1\r\nx\r\n", name);
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task Exec_after_another_client_changed_a_watched_key_answers_null_and_runs_nothing(string name)
    {
        var key = Tools.UniquePrefix();
        await using var watcher = await RawConnection.OpenAsync(Port(name));
        await using var other = await RawConnection.OpenAsync(Port(name));
        (await watcher.ExchangeAsync(Resp("SET", key, "1"), "+OK\r\n")).ShouldBe("+OK\r\n", name);

        (await watcher.ExchangeAsync(Resp("WATCH", key), "+OK\r\n")).ShouldBe("+OK\r\n", name);
        (await other.ExchangeAsync(Resp("SET", key, "2"), "+OK\r\n")).ShouldBe("+OK\r\n", name);
        const string aborted = "+OK\r\n+QUEUED\r\n+QUEUED\r\n*-1\r\n";
        (await watcher.ExchangeAsync(Resp("MULTI") + Resp("INCR", key) + Resp("SET", key + ":side", "x") + Resp("EXEC"), aborted)).ShouldBe(aborted, name);
        (await watcher.ExchangeAsync(Resp("MGET", key, key + ":side"), "*2\r\n$1\r\n2\r\n$-1\r\n")).ShouldBe("*2\r\n$1\r\n2\r\n$-1\r\n", name);

        // EXEC unwatched everything: the same transaction now commits.
        const string committed = "+OK\r\n+QUEUED\r\n*1\r\n:3\r\n";
        (await watcher.ExchangeAsync(Resp("MULTI") + Resp("INCR", key) + Resp("EXEC"), committed)).ShouldBe(committed, name);
    }
}
