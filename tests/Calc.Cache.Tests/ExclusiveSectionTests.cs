using System.Globalization;
using System.Text;
using Calc.Cache.Server;
using Calc.LocalServers;

namespace Calc.Cache.Tests;

/// <summary>
/// EXEC and scripts against connections on other event loops: atomic (the gate's exclusive section), a long script
/// answered with -BUSY and stopped by SCRIPT KILL or script-max-time, and WATCH invalidated by writes from anywhere
/// (expiry, eviction, FLUSHALL), side by side with a real redis-server where Redis defines the behaviour.
/// </summary>
public class ExclusiveSectionTests
{
    private const string Busy = "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static string Command(params string[] args)
    {
        var text = new StringBuilder().Append('*').Append(args.Length).Append("\r\n");
        foreach (var arg in args)
        {
            text.Append('$').Append(Encoding.UTF8.GetByteCount(arg)).Append("\r\n").Append(arg).Append("\r\n");
        }

        return text.ToString();
    }

    [Fact]
    public async Task Exec_and_eval_are_atomic_for_a_reader_on_another_event_loop()
    {
        await using var server = await CacheServer.StartAsync(new CacheServerOptions { Port = 0, IoThreads = 2, LoopBalancing = null }, Token);
        var key = Tools.UniquePrefix();
        await using var writer = await RawConnection.OpenAsync(server.Port);
        (await writer.ExchangeAsync("PING\r\n", "+PONG\r\n")).ShouldBe("+PONG\r\n");
        server.MoveConnections(0, 1);
        for (var attempt = 0; attempt < 100 && !(await ThreadsLineAsync(writer)).Contains("io_thread_1:clients=1,", StringComparison.Ordinal); attempt++)
        {
            await Task.Delay(20, Token);
        }

        await using var reader = await RawConnection.OpenAsync(server.Port); // lands on loop 0, the writer is on loop 1
        var threads = await ThreadsLineAsync(reader);
        threads.ShouldContain("io_thread_0:clients=1,");
        threads.ShouldContain("io_thread_1:clients=1,");
        await writer.SendAsync(Command("MSET", key + ":a", "0", key + ":b", "0"));
        (await writer.ReadAsync(5)).ShouldBe("+OK\r\n");

        const int Rounds = 300;
        var writing = Task.Run(
            async () =>
            {
                for (var i = 1; i <= Rounds; i++)
                {
                    var value = i.ToString(CultureInfo.InvariantCulture);
                    if (i % 2 == 0)
                    {
                        await writer.SendAsync(Command("MULTI") + Command("SET", key + ":a", value) + Command("SET", key + ":b", value) + Command("EXEC"));
                        await writer.ReadAsync("+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n+OK\r\n".Length);
                    }
                    else
                    {
                        await writer.SendAsync(Command("EVAL", "redis.call('set', KEYS[1], ARGV[1]) redis.call('set', KEYS[2], ARGV[1])", "2", key + ":a", key + ":b", value));
                        await writer.ReadAsync("$-1\r\n".Length);
                    }
                }
            },
            Token);

        var torn = 0;
        var reads = 0;
        while (!writing.IsCompleted && reads < 20_000)
        {
            await reader.SendAsync(Command("MGET", key + ":a", key + ":b"));
            (await reader.ReadUntilAsync("\r\n")).ShouldBe("*2\r\n");
            var a = await ReadBulkAsync(reader);
            var b = await ReadBulkAsync(reader);
            reads++;
            if (a != b)
            {
                torn++;
            }
        }

        await writing;
        torn.ShouldBe(0, $"{reads} reads saw half a transaction");
        reads.ShouldBeGreaterThan(0);
    }

    public static TheoryData<string> Servers => ["calc-cache", "redis-server"];

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task A_script_past_busy_reply_threshold_gets_other_clients_busy_until_script_kill_stops_it(string name)
    {
        await using var target = await StartAsync(name);
        await using var other = await target.OpenOnSecondLoopAsync(); // ours: on the loop the script will not run on
        await using var runner = await RawConnection.OpenAsync(target.Port);
        (await runner.ExchangeAsync(Command("CONFIG", "SET", "busy-reply-threshold", "200"), "+OK\r\n")).ShouldBe("+OK\r\n");
        await runner.SendAsync(Command("EVAL", "while true do end", "0"));

        var busyGet = await UntilAsync(other, Command("GET", "x"), reply => reply != "$-1\r\n"); // nil until the threshold passes
        // A client that connects now is served too: not placed on the loop that is stuck in the script.
        await using var late = await RawConnection.OpenAsync(target.Port);
        var lateGet = await late.ExchangeAsync(Command("GET", "x"), Busy);
        var kill = await other.ExchangeAsync(Command("SCRIPT", "KILL"), "+OK\r\n");
        var killed = await runner.ReadUntilAsync("\r\n");
        var after = await late.ExchangeAsync("PING\r\n", "+PONG\r\n");

        busyGet.ShouldBe(Busy);
        lateGet.ShouldBe(Busy);
        kill.ShouldBe("+OK\r\n");
        killed.ShouldStartWith("-ERR Script killed by user with SCRIPT KILL... script: ");
        after.ShouldBe("+PONG\r\n");
        (await runner.ExchangeAsync("PING\r\n", "+PONG\r\n")).ShouldBe("+PONG\r\n");
    }

    [Fact]
    public async Task A_script_that_wrote_is_unkillable_and_script_max_time_stops_it_anyway()
    {
        await using var target = await StartAsync("calc-cache", new CacheServerOptions { BusyReplyThresholdMs = 200, ScriptMaxTimeMs = 3000 });
        var key = Tools.UniquePrefix();
        await using var other = await target.OpenOnSecondLoopAsync();
        await using var runner = await RawConnection.OpenAsync(target.Port);
        await runner.SendAsync(Command("EVAL", "redis.call('set', KEYS[1], 'written') while true do end", "1", key));

        var refused = await UntilAsync(other, Command("SCRIPT", "KILL"), reply => !reply.StartsWith("-NOTBUSY", StringComparison.Ordinal));
        var stopped = await runner.ReadUntilAsync("\r\n");
        var value = await other.ExchangeAsync(Command("GET", key), "$7\r\nwritten\r\n");

        refused.ShouldStartWith("-UNKILLABLE Sorry the script already executed write commands against the dataset.");
        stopped.ShouldStartWith("-ERR Script exceeded script-max-time and was stopped script: ");
        value.ShouldBe("$7\r\nwritten\r\n");
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task Watch_is_invalidated_by_expiry_flushall_and_eviction_but_not_by_other_keys(string name)
    {
        await using var target = await StartAsync(name);
        await using var client = await RawConnection.OpenAsync(target.Port);
        await using var other = await RawConnection.OpenAsync(target.Port);
        const string Aborted = "+OK\r\n+QUEUED\r\n*-1\r\n";
        const string Committed = "+OK\r\n+QUEUED\r\n*1\r\n+PONG\r\n";
        var transaction = Command("MULTI") + Command("PING") + Command("EXEC");

        // A write to another key leaves the watch alone.
        (await client.ExchangeAsync(Command("SET", "w:kept", "1") + Command("WATCH", "w:kept"), "+OK\r\n+OK\r\n")).ShouldBe("+OK\r\n+OK\r\n");
        (await other.ExchangeAsync(Command("SET", "w:unrelated", "1"), "+OK\r\n")).ShouldBe("+OK\r\n");
        (await client.ExchangeAsync(transaction, Committed)).ShouldBe(Committed, "unrelated write");

        // The key expires while watched.
        (await client.ExchangeAsync(Command("SET", "w:ttl", "1", "PX", "100") + Command("WATCH", "w:ttl"), "+OK\r\n+OK\r\n")).ShouldBe("+OK\r\n+OK\r\n");
        await Task.Delay(400, Token);
        (await client.ExchangeAsync(transaction, Aborted)).ShouldBe(Aborted, "expiry");

        // Another connection flushes.
        (await client.ExchangeAsync(Command("SET", "w:flushed", "1") + Command("WATCH", "w:flushed"), "+OK\r\n+OK\r\n")).ShouldBe("+OK\r\n+OK\r\n");
        (await other.ExchangeAsync(Command("FLUSHALL"), "+OK\r\n")).ShouldBe("+OK\r\n");
        (await client.ExchangeAsync(transaction, Aborted)).ShouldBe(Aborted, "flushall");

        // Eviction: above maxmemory every key goes, the watched one too.
        (await client.ExchangeAsync(Command("SET", "w:evicted", "1") + Command("WATCH", "w:evicted"), "+OK\r\n+OK\r\n")).ShouldBe("+OK\r\n+OK\r\n");
        (await other.ExchangeAsync(Command("CONFIG", "SET", "maxmemory-policy", "allkeys-random") + Command("CONFIG", "SET", "maxmemory", "1"), "+OK\r\n+OK\r\n")).ShouldBe("+OK\r\n+OK\r\n");
        await other.SendAsync(Command("SET", "w:trigger", "x"));
        await other.ReadUntilAsync("\r\n"); // +OK, or OOM once nothing is left to evict: either way it evicted
        (await other.ExchangeAsync(Command("CONFIG", "SET", "maxmemory", "0"), "+OK\r\n")).ShouldBe("+OK\r\n");
        (await client.ExchangeAsync(Command("EXISTS", "w:evicted"), ":0\r\n")).ShouldBe(":0\r\n");
        (await client.ExchangeAsync(transaction, Aborted)).ShouldBe(Aborted, "eviction");
    }

    /// <summary>Sends <paramref name="command"/> until its one-line reply passes <paramref name="done"/> (10 s at most).</summary>
    private static async Task<string> UntilAsync(RawConnection connection, string command, Func<string, bool> done)
    {
        var reply = "";
        for (var attempt = 0; attempt < 100; attempt++)
        {
            await connection.SendAsync(command);
            reply = await connection.ReadUntilAsync("\r\n");
            if (done(reply))
            {
                return reply;
            }

            await Task.Delay(100, Token);
        }

        return reply;
    }

    private static async Task<string> ThreadsLineAsync(RawConnection connection)
    {
        await connection.SendAsync(Command("INFO", "threads"));
        var header = await connection.ReadUntilAsync("\r\n");
        var length = int.Parse(header.AsSpan(1, header.Length - 3), CultureInfo.InvariantCulture);
        return await connection.ReadAsync(length + 2);
    }

    private static async Task<string?> ReadBulkAsync(RawConnection connection)
    {
        var header = await connection.ReadUntilAsync("\r\n");
        var length = int.Parse(header.AsSpan(1, header.Length - 3), CultureInfo.InvariantCulture);
        return length < 0 ? null : (await connection.ReadAsync(length + 2))[..length];
    }

    /// <summary>A server of its own for tests that change settings or block it: ours (two loops) or a redis-server.</summary>
    private static async Task<OwnServer> StartAsync(string name, CacheServerOptions? options = null)
    {
        if (name == "calc-cache")
        {
            options ??= new CacheServerOptions();
            options.Port = 0;
            options.IoThreads = 2;
            options.LoopBalancing = null; // every connection starts on loop 0 unless moved
            var server = await CacheServer.StartAsync(options, Token);
            return new OwnServer(server.Port, server.DisposeAsync, server);
        }

        var redis = new ThrowawayRedis(stopOnCtrlC: false);
        await redis.InitializeAsync();
        return new OwnServer(redis.Port, redis.DisposeAsync, null);
    }

    private sealed class OwnServer(int port, Func<ValueTask> dispose, CacheServer? ours) : IAsyncDisposable
    {
        public int Port { get; } = port;

        /// <summary>A connection on our second event loop (moved there), so a script on the first does not hold it; any connection on redis.</summary>
        public async Task<RawConnection> OpenOnSecondLoopAsync()
        {
            var connection = await RawConnection.OpenAsync(Port);
            if (ours is not null)
            {
                (await connection.ExchangeAsync("PING\r\n", "+PONG\r\n")).ShouldBe("+PONG\r\n");
                ours.MoveConnections(0, 1);
                var threads = "";
                for (var attempt = 0; attempt < 100 && !threads.Contains("io_thread_1:clients=1,", StringComparison.Ordinal); attempt++)
                {
                    await Task.Delay(20, Token);
                    threads = await ThreadsLineAsync(connection);
                }

                threads.ShouldContain("io_thread_1:clients=1,");
            }

            return connection;
        }

        public ValueTask DisposeAsync() => dispose();
    }
}
