using System.Globalization;
using Calc.Cache.Server;
using Calc.Testing;
using StackExchange.Redis;

namespace Calc.Cache.Tests;

/// <summary>
/// keys-max-scan: KEYS over a keyspace larger than it is refused and SCAN (its COUNT capped to it) serves instead,
/// while another connection on the same event loop keeps getting answers quickly. The server is a child process with
/// one event loop (so both connections share it), so its two million keys do not weigh on the test host's GC.
/// </summary>
public sealed class LargeKeyspaceTests
{
    private const int KeyCount = 2_000_000;

    /// <summary>Generous for a shared 2-core machine; one uncapped SCAN or KEYS over 2M keys takes several seconds there.</summary>
    private static readonly TimeSpan PingBudget = TimeSpan.FromSeconds(2);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Keys_over_two_million_keys_is_refused_and_a_full_scan_leaves_another_clients_ping_fast()
    {
        await using var server = await CacheServerProcess.StartNewAsync("--io-threads", "1", "--enable-debug-command", "yes");
        // Two connections (one multiplexer each), so the pings never queue behind a SCAN reply on the same socket.
        await using var scannerConnection = await Clients.ConnectAsync(server.Port, o => o.AsyncTimeout = o.SyncTimeout = 120_000);
        await using var pingerConnection = await Clients.ConnectAsync(server.Port);
        var scanner = scannerConnection.GetDatabase();
        var pinger = pingerConnection.GetDatabase();
        await scanner.ExecuteAsync("DEBUG", "POPULATE", KeyCount).WaitAsync(TimeSpan.FromMinutes(2), Token);

        var refusal = await Should.ThrowAsync<RedisServerException>(() => scanner.ExecuteAsync("KEYS", "*"));
        refusal.Message.ShouldBe($"ERR KEYS would examine {KeyCount} keys, more than keys-max-scan (100000): iterate with SCAN instead");

        var pings = PingWatch.Start(pinger);

        long seen = 0;
        var calls = 0;
        var cursor = "0";
        var deadline = DateTime.UtcNow.AddMinutes(3);
        do
        {
            // COUNT far above the limit: each call still examines about keys-max-scan keys, not all of them. MATCH
            // keeps the replies small (a tenth of the keys end in 7) while the server examines every key.
            var reply = (await scanner.ExecuteAsync("SCAN", cursor, "MATCH", "key:*7", "COUNT", "1000000000")).Elements();
            cursor = reply[0].Text()!;
            var batch = reply[1].Elements().Length;
            batch.ShouldBeLessThan(20_000);
            seen += batch;
            calls++;
        }
        while (cursor != "0" && DateTime.UtcNow < deadline);

        await pings.StopAsync();

        seen.ShouldBe(KeyCount / 10);
        calls.ShouldBeGreaterThanOrEqualTo(KeyCount / 200_000);
        pings.Pings.ShouldBeGreaterThan(calls / 2, "the other client should have been answered between scan calls");
        pings.Slowest.ShouldBeLessThan(PingBudget);
    }
}

/// <summary>Strings near proto-max-bulk-len (1 MB here), replies past client-reply-max-bytes, DEBUG's switch.</summary>
public sealed class SmallLimitsFixture() : CacheServerFixture(Options())
{
    private static CacheServerOptions Options()
    {
        var options = CacheServerOptions.Parse(["--port", "0", "--proto-max-bulk-len", "1mb", "--client-reply-max-bytes", "3mb", "--enable-debug-command", "local"]);
        return options;
    }
}

public sealed class CommandLimitTests(SmallLimitsFixture server) : IClassFixture<SmallLimitsFixture>
{
    private const string TooLong = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
    private const int Limit = 1024 * 1024;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Setrange_past_proto_max_bulk_len_is_refused_and_an_offset_near_the_64_bit_limit_does_not_overflow()
    {
        var key = Tools.UniquePrefix();
        await using var redis = await Clients.ConnectAsync(server.Port);
        var client = redis.GetDatabase();

        (await Should.ThrowAsync<RedisServerException>(() => client.ExecuteAsync("SETRANGE", key, Limit, "x"))).Message.ShouldBe(TooLong);
        (await Should.ThrowAsync<RedisServerException>(() => client.ExecuteAsync("SETRANGE", key, long.MaxValue, "x"))).Message.ShouldBe(TooLong);
        (await Should.ThrowAsync<RedisServerException>(() => client.ExecuteAsync("SETRANGE", key, long.MaxValue - 2, "xyz"))).Message.ShouldBe(TooLong);
        (await client.ExecuteAsync("SETRANGE", key, long.MaxValue, "")).Integer().ShouldBe(0); // nothing to write
        (await client.ExecuteAsync("EXISTS", key)).Integer().ShouldBe(0);

        (await client.ExecuteAsync("SETRANGE", key, Limit - 1, "x")).Integer().ShouldBe(Limit);
        (await client.ExecuteAsync("PING")).Text().ShouldBe("PONG");
    }

    [Fact]
    public async Task Append_that_would_grow_a_string_past_proto_max_bulk_len_is_refused_and_changes_nothing()
    {
        var key = Tools.UniquePrefix();
        await using var redis = await Clients.ConnectAsync(server.Port);
        var client = redis.GetDatabase();
        await client.StringSetAsync(key, new byte[Limit - 1]);

        (await client.ExecuteAsync("APPEND", key, "x")).Integer().ShouldBe(Limit);
        (await Should.ThrowAsync<RedisServerException>(() => client.ExecuteAsync("APPEND", key, "x"))).Message.ShouldBe(TooLong);

        (await client.ExecuteAsync("STRLEN", key)).Integer().ShouldBe(Limit);
    }

    [Fact]
    public async Task A_reply_past_client_reply_max_bytes_closes_that_connection_only()
    {
        var key = Tools.UniquePrefix();
        await using var redis = await Clients.ConnectAsync(server.Port);
        var client = redis.GetDatabase();
        await client.StringSetAsync(key, new byte[Limit - 16]);
        await using var greedy = await RawConnection.OpenAsync(server.Port);

        // Four values of 1 MB ask for 4 MB of replies in one command; the limit is 3 MB.
        await greedy.SendAsync($"MGET {key} {key} {key} {key}\r\n");

        var received = await greedy.DrainUntilClosedAsync(TimeSpan.FromSeconds(15));
        received.ShouldBeGreaterThanOrEqualTo(0, "the server should have closed the connection");
        received.ShouldBeLessThan(4L * Limit);
        ((byte[]?)await client.StringGetAsync(key))!.Length.ShouldBe(Limit - 16);
        (await client.ExecuteAsync("MGET", key, key)).Elements().Length.ShouldBe(2);
    }

    [Fact]
    public async Task Debug_runs_for_local_clients_when_enable_debug_command_is_local_and_its_size_is_bounded()
    {
        await using var redis = await Clients.ConnectAsync(server.Port);
        var client = redis.GetDatabase();

        (await client.ExecuteAsync("DEBUG", "SLEEP", "0")).Text().ShouldBe("OK");
        (await Should.ThrowAsync<RedisServerException>(() => client.ExecuteAsync("DEBUG", "POPULATE", 1, Tools.UniquePrefix(), Limit + 1))).Message.ShouldBe(TooLong);
        (await Should.ThrowAsync<RedisServerException>(() => client.ExecuteAsync("DEBUG", "POPULATE", -1))).Message.ShouldBe("ERR value is out of range, must be positive");
        (await client.ExecuteAsync("CONFIG", "GET", "enable-debug-command")).Elements()[1].Text().ShouldBe("local");
    }

    [Fact]
    public async Task The_new_limits_are_visible_and_settable_through_config()
    {
        await using var redis = await Clients.ConnectAsync(server.Port);
        var client = redis.GetDatabase();

        var values = (await client.ExecuteAsync("CONFIG", "GET", "keys-max-scan", "client-reply-max-bytes", "shutdown-timeout")).Elements()
            .Select(e => e.Text()).ToArray();
        values.ShouldBe(["keys-max-scan", "100000", "client-reply-max-bytes", (3L * Limit).ToString(CultureInfo.InvariantCulture), "shutdown-timeout", "3"]);

        (await client.ExecuteAsync("CONFIG", "SET", "keys-max-scan", "5000")).Text().ShouldBe("OK");
        (await client.ExecuteAsync("CONFIG", "GET", "keys-max-scan")).Elements()[1].Text().ShouldBe("5000");
        (await client.ExecuteAsync("CONFIG", "SET", "keys-max-scan", "100000")).Text().ShouldBe("OK");
        (await Should.ThrowAsync<RedisServerException>(() => client.ExecuteAsync("CONFIG", "SET", "client-reply-max-bytes", "1mb")))
            .Message.ShouldContain("at least proto-max-bulk-len + 1kb");
        (await Should.ThrowAsync<RedisServerException>(() => client.ExecuteAsync("CONFIG", "SET", "enable-debug-command", "yes")))
            .Message.ShouldContain("can't set immutable config");
    }
}
