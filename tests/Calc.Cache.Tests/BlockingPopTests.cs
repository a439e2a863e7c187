using System.Diagnostics;
using System.Text;
using Calc.Cache.Server;

namespace Calc.Cache.Tests;

/// <summary>
/// BLPOP, BRPOP, BLMOVE across real connections, on both transports, on a server with one event loop (so a blocked
/// client shares its loop with the others): a push from another connection wakes the blocked client, the timeout
/// answers null, a blocked client holds nobody else up, and a client that goes away while blocked takes nothing.
/// </summary>
public class BlockingPopTests
{
    public static TheoryData<bool> Transports => new() { false, true };

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Blpop_is_answered_by_a_push_from_another_connection_and_then_runs_its_pipelined_commands(bool socketTransport)
    {
        await using var server = await StartAsync(socketTransport);
        await using var blocked = await RawConnection.OpenAsync(server.Port);
        await using var pusher = await RawConnection.OpenAsync(server.Port);

        await blocked.SendAsync(Resp("BLPOP", "q1", "q2", "0") + Resp("PING"));
        (await blocked.ReadAsync(1, TimeSpan.FromMilliseconds(300))).ShouldBeEmpty();
        (await pusher.ExchangeAsync(Resp("RPUSH", "q2", "v1", "v2"), ":2\r\n")).ShouldBe(":2\r\n");

        var expected = "*2\r\n$2\r\nq2\r\n$2\r\nv1\r\n+PONG\r\n";
        (await blocked.ReadAsync(expected.Length)).ShouldBe(expected);
        (await pusher.ExchangeAsync(Resp("LRANGE", "q2", "0", "-1"), "*1\r\n$2\r\nv2\r\n")).ShouldBe("*1\r\n$2\r\nv2\r\n");
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_blocked_client_does_not_hold_up_the_other_clients_of_its_event_loop(bool socketTransport)
    {
        await using var server = await StartAsync(socketTransport);
        await using var blocked = await RawConnection.OpenAsync(server.Port);
        await using var other = await RawConnection.OpenAsync(server.Port);

        await blocked.SendAsync(Resp("BLPOP", "never", "0"));
        await Task.Delay(100, Token);
        for (var i = 0; i < 20; i++)
        {
            (await other.ExchangeAsync(Resp("INCR", "counter"), $":{i + 1}\r\n")).ShouldBe($":{i + 1}\r\n");
        }

        (await other.ExchangeAsync(Resp("INFO", "clients"), "$")).ShouldBe("$");
        (await other.ReadUntilAsync("blocked_clients:1\r\n")).ShouldEndWith("blocked_clients:1\r\n");
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Brpop_answers_null_once_its_timeout_has_passed_and_not_before(bool socketTransport)
    {
        await using var server = await StartAsync(socketTransport);
        await using var blocked = await RawConnection.OpenAsync(server.Port);

        var watch = Stopwatch.StartNew();
        (await blocked.ExchangeAsync(Resp("BRPOP", "empty", "0.3"), "*-1\r\n")).ShouldBe("*-1\r\n");
        watch.ElapsedMilliseconds.ShouldBeGreaterThanOrEqualTo(290);

        (await blocked.ExchangeAsync(Resp("BLMOVE", "empty", "dst", "LEFT", "RIGHT", "0.05"), "*-1\r\n")).ShouldBe("*-1\r\n"); // as Redis: the null array
        (await blocked.ExchangeAsync(Resp("EXISTS", "dst"), ":0\r\n")).ShouldBe(":0\r\n");
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_timeout_of_zero_waits_for_as_long_as_it_takes(bool socketTransport)
    {
        await using var server = await StartAsync(socketTransport);
        await using var blocked = await RawConnection.OpenAsync(server.Port);
        await using var pusher = await RawConnection.OpenAsync(server.Port);

        await blocked.SendAsync(Resp("BLMOVE", "src", "dst", "RIGHT", "LEFT", "0"));
        (await blocked.ReadAsync(1, TimeSpan.FromSeconds(1.5))).ShouldBeEmpty();
        (await pusher.ExchangeAsync(Resp("LPUSH", "src", "a", "b"), ":2\r\n")).ShouldBe(":2\r\n");

        (await blocked.ReadAsync("$1\r\na\r\n".Length)).ShouldBe("$1\r\na\r\n");
        (await pusher.ExchangeAsync(Resp("LRANGE", "dst", "0", "-1"), "*1\r\n$1\r\na\r\n")).ShouldBe("*1\r\n$1\r\na\r\n");
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_client_that_disconnects_while_blocked_is_removed_and_takes_no_element(bool socketTransport)
    {
        await using var server = await StartAsync(socketTransport);
        await using var pusher = await RawConnection.OpenAsync(server.Port);
        await using (var leaving = await RawConnection.OpenAsync(server.Port))
        {
            await leaving.SendAsync(Resp("BLPOP", "left-behind", "0"));
            await WaitForBlockedClientsAsync(pusher, 1);
        }

        await WaitForBlockedClientsAsync(pusher, 0);
        (await pusher.ExchangeAsync(Resp("RPUSH", "left-behind", "v"), ":1\r\n")).ShouldBe(":1\r\n");
        (await pusher.ExchangeAsync(Resp("LLEN", "left-behind"), ":1\r\n")).ShouldBe(":1\r\n");
    }

    [Fact]
    public async Task Blocked_clients_are_served_in_the_order_they_blocked()
    {
        await using var server = await StartAsync(socketTransport: false);
        await using var first = await RawConnection.OpenAsync(server.Port);
        await using var second = await RawConnection.OpenAsync(server.Port);
        await using var pusher = await RawConnection.OpenAsync(server.Port);

        await first.SendAsync(Resp("BLPOP", "fifo", "0"));
        await WaitForBlockedClientsAsync(pusher, 1);
        await second.SendAsync(Resp("BLPOP", "fifo", "0"));
        await WaitForBlockedClientsAsync(pusher, 2);
        (await pusher.ExchangeAsync(Resp("RPUSH", "fifo", "1", "2", "3"), ":3\r\n")).ShouldBe(":3\r\n");

        (await first.ReadAsync("*2\r\n$4\r\nfifo\r\n$1\r\n1\r\n".Length)).ShouldBe("*2\r\n$4\r\nfifo\r\n$1\r\n1\r\n");
        (await second.ReadAsync("*2\r\n$4\r\nfifo\r\n$1\r\n2\r\n".Length)).ShouldBe("*2\r\n$4\r\nfifo\r\n$1\r\n2\r\n");
        (await pusher.ExchangeAsync(Resp("LRANGE", "fifo", "0", "-1"), "*1\r\n$1\r\n3\r\n")).ShouldBe("*1\r\n$1\r\n3\r\n");
    }

    [Fact]
    public async Task Many_blocked_clients_are_each_woken_by_concurrent_pushes_on_a_two_loop_server()
    {
        await using var server = await CacheServer.StartAsync(new CacheServerOptions { Port = 0, IoThreads = 2 }, Token);
        const int Pairs = 16;
        var waiters = new List<RawConnection>();
        var pushers = new List<RawConnection>();
        try
        {
            for (var i = 0; i < Pairs; i++)
            {
                var waiter = await RawConnection.OpenAsync(server.Port);
                waiters.Add(waiter);
                await waiter.SendAsync(Resp("BRPOP", $"pair:{i}", "0"));
                pushers.Add(await RawConnection.OpenAsync(server.Port));
            }

            await Task.WhenAll(pushers.Select((p, i) => p.ExchangeAsync(Resp("LPUSH", $"pair:{i}", $"v{i}"), ":1\r\n")));
            for (var i = 0; i < Pairs; i++)
            {
                var expected = $"*2\r\n${$"pair:{i}".Length}\r\npair:{i}\r\n${$"v{i}".Length}\r\nv{i}\r\n";
                (await waiters[i].ReadAsync(expected.Length)).ShouldBe(expected);
            }
        }
        finally
        {
            foreach (var connection in waiters.Concat(pushers))
            {
                await connection.DisposeAsync();
            }
        }
    }

    private static async Task<CacheServer> StartAsync(bool socketTransport) =>
        await CacheServer.StartAsync(new CacheServerOptions { Port = 0, IoThreads = 1, UseSocketTransport = socketTransport }, Token);

    private static async Task WaitForBlockedClientsAsync(RawConnection connection, int count)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            await connection.SendAsync(Resp("INFO", "clients"));
            var header = await connection.ReadUntilAsync("\r\n");
            var body = await connection.ReadAsync(int.Parse(header[1..^2], System.Globalization.CultureInfo.InvariantCulture) + 2);
            if (body.Contains($"blocked_clients:{count}\r\n", StringComparison.Ordinal))
            {
                return;
            }

            deadline.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(10), $"blocked_clients never became {count}: {body}");
            await Task.Delay(20, Token);
        }
    }

    internal static string Resp(params string[] args)
    {
        var text = new StringBuilder().Append('*').Append(args.Length).Append("\r\n");
        foreach (var arg in args)
        {
            text.Append('$').Append(Encoding.UTF8.GetByteCount(arg)).Append("\r\n").Append(arg).Append("\r\n");
        }

        return text.ToString();
    }
}
