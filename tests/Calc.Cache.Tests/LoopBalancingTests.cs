using System.Globalization;
using System.Text;
using Calc.Cache.Server;

namespace Calc.Cache.Tests;

/// <summary>
/// How the epoll transport places connections on its event loops: packed onto the first loop, spread when a loop stays
/// busy, given back when loops are quiet (the policy, on loads alone), and moved between loops without losing a byte,
/// a reply or the session (live connections, moved on demand while they work).
/// </summary>
public class LoopBalancingTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public void A_loop_busy_for_two_windows_hands_half_the_difference_to_the_quietest_loop()
    {
        var decision = LoopBalancePolicy.Default.Decide(index: 0, load: 900, previousLoad: 950, loads: [900, 300, 100]);

        decision.ShouldNotBeNull();
        decision.Value.Target.ShouldBe(2);
        decision.Value.Everything.ShouldBeFalse();
        decision.Value.Share.ShouldBe((900 - 100) / 1800.0, 1e-9);
    }

    [Fact]
    public void One_busy_window_moves_nothing()
    {
        LoopBalancePolicy.Default.Decide(index: 0, load: 990, previousLoad: 400, loads: [990, 0]).ShouldBeNull();
    }

    [Fact]
    public void A_busy_loop_keeps_its_connections_when_every_other_loop_is_busy_too()
    {
        LoopBalancePolicy.Default.Decide(index: 0, load: 900, previousLoad: 900, loads: [900, LoopBalancePolicy.Default.SpreadToBelowPermille]).ShouldBeNull();
    }

    [Fact]
    public void A_quiet_loop_gives_all_its_connections_to_the_first_lower_loop_with_room()
    {
        var decision = LoopBalancePolicy.Default.Decide(index: 2, load: 150, previousLoad: 200, loads: [500, 300, 150]);

        decision.ShouldBe((1, true, 1.0));
    }

    [Fact]
    public void Loops_whose_loads_together_are_high_stay_apart_and_the_first_loop_never_gives_back()
    {
        LoopBalancePolicy.Default.Decide(index: 1, load: 350, previousLoad: 350, loads: [300, 350]).ShouldBeNull();
        LoopBalancePolicy.Default.Decide(index: 1, load: 100, previousLoad: 550, loads: [100, 100]).ShouldBeNull(); // was busy a window ago
        LoopBalancePolicy.Default.Decide(index: 0, load: 50, previousLoad: 50, loads: [50, 0]).ShouldBeNull();
        LoopBalancePolicy.Default.Decide(index: 0, load: 1000, previousLoad: 1000, loads: [1000]).ShouldBeNull(); // one loop: nowhere to go
    }

    [Fact]
    public async Task New_connections_are_packed_onto_the_first_loop_and_info_threads_shows_every_loop()
    {
        await using var server = await CacheServer.StartAsync(new CacheServerOptions { Port = 0, IoThreads = 2 }, Token);
        await using (var warmUp = await RawConnection.OpenAsync(server.Port))
        {
            await ThreadsAsync(warmUp); // the first commands of a process are compiled as they run: not the load to test with
        }

        await Task.Delay(300, Token); // the loop, left without connections, sleeps and so reports no load

        await using var first = await RawConnection.OpenAsync(server.Port);
        await using var second = await RawConnection.OpenAsync(server.Port);
        (await first.ExchangeAsync("PING\r\n", "+PONG\r\n")).ShouldBe("+PONG\r\n");
        (await second.ExchangeAsync("PING\r\n", "+PONG\r\n")).ShouldBe("+PONG\r\n");

        var threads = await ThreadsAsync(second);

        threads["io_threads_active"].ShouldBe("1");
        threads["io_thread_0"].ShouldStartWith("clients=2,");
        threads["io_thread_1"].ShouldBe("clients=0,load=0.000,moved_in=0");
    }

    [Fact]
    public async Task A_loop_that_stays_busy_hands_its_working_connection_to_another_loop_by_itself()
    {
        // A policy under which any loop with work counts as busy and any other as quiet: the connection keeps moving.
        var restless = new LoopBalancePolicy(SpreadAbovePermille: 0, SpreadToBelowPermille: 1001, ConsolidateBelowPermille: 0);
        await using var server = await CacheServer.StartAsync(new CacheServerOptions { Port = 0, IoThreads = 2, LoopBalancing = restless }, Token);
        await using var connection = await RawConnection.OpenAsync(server.Port);
        var moves = 0L;
        for (var attempt = 0; attempt < 300 && moves < 2; attempt++)
        {
            (await connection.ExchangeAsync("PING\r\n", "+PONG\r\n")).ShouldBe("+PONG\r\n");
            var threads = await ThreadsAsync(connection);
            moves = MovedIn(threads["io_thread_0"]) + MovedIn(threads["io_thread_1"]);
            await Task.Delay(10, Token);
        }

        moves.ShouldBeGreaterThanOrEqualTo(2, "moved to the other loop and back while it worked");
        (await connection.ExchangeAsync("PING\r\n", "+PONG\r\n")).ShouldBe("+PONG\r\n");
    }

    [Fact]
    public async Task A_connection_moved_to_another_loop_keeps_its_session_and_the_half_command_it_had_sent()
    {
        await using var server = await CacheServer.StartAsync(new CacheServerOptions { Port = 0, IoThreads = 2, LoopBalancing = null }, Token);
        var key = Tools.UniquePrefix();
        await using var connection = await RawConnection.OpenAsync(server.Port);
        await using var observer = await RawConnection.OpenAsync(server.Port);
        await connection.SendAsync("CLIENT ID\r\n");
        var id = await connection.ReadUntilAsync("\r\n");
        (await connection.ExchangeAsync("CLIENT SETNAME mover\r\n", "+OK\r\n")).ShouldBe("+OK\r\n");
        (await ThreadsAsync(observer))["io_thread_0"].ShouldStartWith("clients=2,");
        var set = $"*3\r\n$3\r\nSET\r\n${key.Length}\r\n{key}\r\n$5\r\nmoved\r\n";
        await connection.SendAsync(set[..(set.Length / 2)]);

        server.MoveConnections(0, 1);
        await WaitForAsync(observer, t => t["io_thread_1"].StartsWith("clients=2,", StringComparison.Ordinal));
        var threads = await ThreadsAsync(observer);
        threads["io_thread_0"].ShouldStartWith("clients=0,");
        threads["io_thread_1"].ShouldEndWith(",moved_in=2");

        await connection.SendAsync(set[(set.Length / 2)..]);
        (await connection.ReadAsync("+OK\r\n".Length)).ShouldBe("+OK\r\n");
        await connection.SendAsync("CLIENT ID\r\n");
        (await connection.ReadUntilAsync("\r\n")).ShouldBe(id);
        (await connection.ExchangeAsync("CLIENT GETNAME\r\n", "$5\r\nmover\r\n")).ShouldBe("$5\r\nmover\r\n");
        (await connection.ExchangeAsync($"GET {key}\r\n", "$5\r\nmoved\r\n")).ShouldBe("$5\r\nmoved\r\n");
    }

    [Fact]
    public async Task Connections_moved_back_and_forth_while_they_pipeline_lose_no_command_and_no_reply()
    {
        await using var server = await CacheServer.StartAsync(new CacheServerOptions { Port = 0, IoThreads = 2 }, Token);
        var key = Tools.UniquePrefix();
        const int clients = 4;
        const int minimumBatches = 200;
        const int maximumBatches = 20_000; // bounds the test if the moves stall
        const int minimumMoves = 100;
        const int perBatch = 50;
        var frame = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat($"*2\r\n$4\r\nINCR\r\n${key.Length}\r\n{key}\r\n", perBatch)));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var moves = 0;
        var mover = Task.Run(
            async () =>
            {
                while (!stop.IsCancellationRequested && moves < 100_000)
                {
                    server.MoveConnections(moves % 2, (moves + 1) % 2);
                    Interlocked.Increment(ref moves);
                    await Task.Delay(1, CancellationToken.None);
                }
            },
            CancellationToken.None);

        var workers = Enumerable.Range(0, clients).Select(_ => Task.Run(
            async () =>
            {
                await using var connection = await RawConnection.OpenAsync(server.Port);
                var last = 0L;
                var carry = "";
                var buffer = new byte[64 * 1024];
                var batch = 0;
                // However fast the machine: keep working until the connections have been moved many times.
                for (; batch < maximumBatches && (batch < minimumBatches || Volatile.Read(ref moves) < minimumMoves); batch++)
                {
                    await connection.SendAsync(frame);
                    var replies = 0;
                    while (replies < perBatch)
                    {
                        var n = await connection.Socket.ReceiveAsync(buffer, System.Net.Sockets.SocketFlags.None, Token);
                        n.ShouldBeGreaterThan(0, "the server closed the connection");
                        var lines = (carry + Encoding.ASCII.GetString(buffer, 0, n)).Split("\r\n");
                        carry = lines[^1];
                        foreach (var reply in lines[..^1])
                        {
                            reply[0].ShouldBe(':');
                            var value = long.Parse(reply.AsSpan(1), CultureInfo.InvariantCulture);
                            value.ShouldBeGreaterThan(last, "replies come in the order of the commands");
                            last = value;
                            replies++;
                        }
                    }

                    replies.ShouldBe(perBatch, "no reply beyond the commands sent");
                }

                return batch;
            },
            Token)).ToArray();
        var batches = await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(120), Token);
        await stop.CancelAsync();
        await mover;

        Volatile.Read(ref moves).ShouldBeGreaterThanOrEqualTo(minimumMoves, "the connections were moved while they worked");
        await using var check = await RawConnection.OpenAsync(server.Port);
        var total = (batches.Sum() * perBatch).ToString(CultureInfo.InvariantCulture);
        var expected = $"${total.Length}\r\n{total}\r\n";
        (await check.ExchangeAsync($"GET {key}\r\n", expected)).ShouldBe(expected);
        var threads = await ThreadsAsync(check);
        (MovedIn(threads["io_thread_0"]) + MovedIn(threads["io_thread_1"])).ShouldBeGreaterThan(clients);
    }

    private static long MovedIn(string loopLine) =>
        long.Parse(loopLine[(loopLine.LastIndexOf('=') + 1)..], CultureInfo.InvariantCulture);

    private static async Task<Dictionary<string, string>> ThreadsAsync(RawConnection connection)
    {
        await connection.SendAsync("INFO threads\r\n");
        var header = await connection.ReadUntilAsync("\r\n"); // $<length>
        var length = int.Parse(header.AsSpan(1, header.Length - 3), CultureInfo.InvariantCulture);
        var body = await connection.ReadAsync(length + 2);
        return body.Split("\r\n", StringSplitOptions.RemoveEmptyEntries)
            .Where(line => !line.StartsWith('#'))
            .Select(line => line.Split(':', 2))
            .ToDictionary(parts => parts[0], parts => parts[1]);
    }

    private static async Task WaitForAsync(RawConnection observer, Func<Dictionary<string, string>, bool> condition)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            if (condition(await ThreadsAsync(observer)))
            {
                return;
            }

            await Task.Delay(20, Token);
        }

        condition(await ThreadsAsync(observer)).ShouldBeTrue("the loops did not reach the expected state within 2 s");
    }
}
