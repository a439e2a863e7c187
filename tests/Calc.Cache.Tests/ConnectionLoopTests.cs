using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Calc.Cache.Server;
using StackExchange.Redis;

namespace Calc.Cache.Tests;

/// <summary>A server with a short output timeout, on the transport a subclass picks.</summary>
public abstract class LoopServerFixture(bool socketTransport) : CacheServerFixture(Options(socketTransport))
{
    public bool SocketTransport => socketTransport;

    internal static CacheServerOptions Options(bool socketTransport, int maxClients = 10000)
    {
        var options = new CacheServerOptions { Port = 0, MaxClients = maxClients, UseSocketTransport = socketTransport };
        options.Set("client-output-timeout", "2");
        return options;
    }
}

public sealed class EpollLoopServerFixture() : LoopServerFixture(socketTransport: false);

public sealed class SocketLoopServerFixture() : LoopServerFixture(socketTransport: true);

/// <summary>The direct path: the epoll transport runs the command loop on its event loop, without pipes.</summary>
public sealed class DirectConnectionLoopTests(EpollLoopServerFixture server) : ConnectionLoopTests(server), IClassFixture<EpollLoopServerFixture>;

/// <summary>The same behaviour over Kestrel's socket transport and pipes (the path used where epoll is not available).</summary>
public sealed class PipeConnectionLoopTests(SocketLoopServerFixture server) : ConnectionLoopTests(server), IClassFixture<SocketLoopServerFixture>;

/// <summary>
/// How a connection's bytes become commands and replies, held to the same behaviour on both connection loops:
/// framing across reads, long pipelines, large values, a client that never reads, errors, QUIT, maxclients, shutdown.
/// </summary>
public abstract class ConnectionLoopTests(LoopServerFixture server)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>Generous: the largest replies here are megabytes, read on a loaded machine.</summary>
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_command_sent_one_byte_at_a_time_gets_exactly_one_reply()
    {
        var key = Tools.UniquePrefix();
        await using var socket = await RawConnection.OpenAsync(server.Port);
        var request = Encoding.ASCII.GetBytes($"*3\r\n$3\r\nSET\r\n${key.Length}\r\n{key}\r\n$5\r\nhello\r\n*2\r\n$3\r\nGET\r\n${key.Length}\r\n{key}\r\n");
        foreach (var b in request)
        {
            await socket.SendAsync(new[] { b });
            await Task.Delay(1, Token); // separate segments: the server sees every prefix of both frames
        }

        (await socket.ReadAsync("+OK\r\n$5\r\nhello\r\n".Length, ReadTimeout)).ShouldBe("+OK\r\n$5\r\nhello\r\n");
    }

    [Fact]
    public async Task Ten_thousand_pipelined_commands_in_one_write_get_every_reply_in_order()
    {
        var key = Tools.UniquePrefix();
        await using var socket = await RawConnection.OpenAsync(server.Port);
        const int count = 10_000;
        var frame = $"*2\r\n$4\r\nINCR\r\n${key.Length}\r\n{key}\r\n";
        var batch = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat(frame, count)));
        var expected = string.Concat(Enumerable.Range(1, count).Select(i => string.Create(CultureInfo.InvariantCulture, $":{i}\r\n")));

        var send = socket.SendAsync(batch); // read while sending: ~200 KB of requests
        var replies = await socket.ReadAsync(expected.Length, ReadTimeout);
        await send;

        replies.ShouldBe(expected);
    }

    [Fact]
    public async Task A_value_larger_than_the_receive_buffer_round_trips_intact()
    {
        var key = Tools.UniquePrefix();
        var value = new byte[3 * 1024 * 1024 + 7];
        for (var i = 0; i < value.Length; i++)
        {
            value[i] = (byte)(i * 31);
        }

        await using var socket = await RawConnection.OpenAsync(server.Port);
        var header = Encoding.ASCII.GetBytes($"*3\r\n$3\r\nSET\r\n${key.Length}\r\n{key}\r\n${value.Length}\r\n");
        await socket.SendAsync(header.Concat(value).Concat("\r\n"u8.ToArray()).ToArray());
        (await socket.ReadAsync(5, ReadTimeout)).ShouldBe("+OK\r\n");

        await socket.SendAsync(Encoding.ASCII.GetBytes($"GET {key}\r\nPING\r\n"));
        var replyHeader = Encoding.ASCII.GetBytes($"${value.Length}\r\n");
        var reply = await socket.ReadBytesAsync(replyHeader.Length + value.Length + 2 + 7, ReadTimeout);

        reply.AsSpan(0, replyHeader.Length).SequenceEqual(replyHeader).ShouldBeTrue();
        reply.AsSpan(replyHeader.Length, value.Length).SequenceEqual(value).ShouldBeTrue();
        Encoding.ASCII.GetString(reply, replyHeader.Length + value.Length, 9).ShouldBe("\r\n+PONG\r\n");
    }

    [Fact]
    public async Task A_client_that_never_reads_its_replies_stops_being_served_and_is_closed_after_the_output_timeout()
    {
        var key = Tools.UniquePrefix();
        await using (var writer = await Clients.ConnectAsync(server.Port))
        {
            await writer.GetDatabase().StringSetAsync(key, new byte[256 * 1024]);
        }

        await using var monitorConnection = await Clients.ConnectAsync(server.Port);
        var monitor = monitorConnection.GetDatabase();
        await using var reader = await RawConnection.OpenAsync(server.Port);
        reader.Socket.ReceiveBufferSize = 64 * 1024;
        var before = await CommandsProcessedAsync(monitor);

        // 4000 GETs of 256 KB ask for 1 GB of replies; the client reads nothing.
        const int gets = 4000;
        var batch = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat($"GET {key}\r\n", gets)));
        _ = reader.SendAsync(batch).ContinueWith(static _ => { }, TaskScheduler.Default);
        await Task.Delay(1000, Token);

        // While the replies wait, the server runs no more of this client's commands: pending output stays a few
        // socket buffers' worth, not the 1 GB the pipeline asks for.
        var served = await CommandsProcessedAsync(monitor) - before;
        served.ShouldBeLessThan(200, $"commands served while the client read nothing: {served}");
        await Task.Delay(2500, Token); // past the 2 s output timeout without reading

        var received = await reader.DrainUntilClosedAsync(TimeSpan.FromSeconds(15));
        received.ShouldBeGreaterThanOrEqualTo(0, "the server should have closed the connection after the output timeout");
        received.ShouldBeLessThan(200L * 256 * 1024);
        (await monitor.ExecuteAsync("PING")).Text().ShouldBe("PONG");
    }

    [Fact]
    public async Task A_protocol_error_gets_its_error_and_closes_only_that_connection()
    {
        await using var bystander = await RawConnection.OpenAsync(server.Port);
        await using var offender = await RawConnection.OpenAsync(server.Port);

        await offender.SendAsync("PING\r\n*1\r\n$abc\r\nPING\r\n"u8.ToArray());

        (await offender.ReadToEndAsync()).ShouldBe("+PONG\r\n-ERR Protocol error: invalid bulk length\r\n");
        await bystander.SendAsync("PING\r\n"u8.ToArray());
        (await bystander.ReadAsync(7, ReadTimeout)).ShouldBe("+PONG\r\n");
    }

    [Fact]
    public async Task Quit_answers_ok_then_closes_and_ignores_what_follows()
    {
        var key = Tools.UniquePrefix();
        await using var socket = await RawConnection.OpenAsync(server.Port);

        await socket.SendAsync(Encoding.ASCII.GetBytes($"PING\r\nQUIT\r\nSET {key} v\r\n"));

        (await socket.ReadToEndAsync()).ShouldBe("+PONG\r\n+OK\r\n");
        await using var client = await Clients.ConnectAsync(server.Port);
        ((string?)await client.GetDatabase().StringGetAsync(key)).ShouldBeNull();
    }

    [Fact]
    public async Task Replies_still_arrive_after_the_client_half_closes()
    {
        var key = Tools.UniquePrefix();
        await using var socket = await RawConnection.OpenAsync(server.Port);
        await socket.SendAsync(Encoding.ASCII.GetBytes($"SET {key} v\r\nGET {key}\r\n"));
        socket.Socket.Shutdown(SocketShutdown.Send);

        (await socket.ReadToEndAsync()).ShouldBe("+OK\r\n$1\r\nv\r\n");
    }

    [Fact]
    public async Task Past_maxclients_a_new_connection_gets_the_error_and_is_closed()
    {
        await using var small = await CacheServer.StartAsync(LoopServerFixture.Options(server.SocketTransport, maxClients: 1), Token);
        await using var first = await RawConnection.OpenAsync(small.Port);
        await first.SendAsync("PING\r\n"u8.ToArray());
        (await first.ReadAsync(7, ReadTimeout)).ShouldBe("+PONG\r\n");

        await using var second = await RawConnection.OpenAsync(small.Port);

        (await second.ReadToEndAsync()).ShouldBe("-ERR max number of clients reached\r\n");
        await first.SendAsync("PING\r\n"u8.ToArray());
        (await first.ReadAsync(7, ReadTimeout)).ShouldBe("+PONG\r\n");
    }

    [Fact]
    public async Task Stopping_the_server_closes_idle_clients_without_waiting_for_the_shutdown_timeout()
    {
        var own = await CacheServer.StartAsync(LoopServerFixture.Options(server.SocketTransport), Token);
        await using var idle = await RawConnection.OpenAsync(own.Port);
        await idle.SendAsync("PING\r\n"u8.ToArray());
        (await idle.ReadAsync(7, ReadTimeout)).ShouldBe("+PONG\r\n");

        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        await own.DisposeAsync();

        stopwatch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(4)); // the host's shutdown timeout is 5 s
        (await idle.ReadToEndAsync()).ShouldBe("");
    }

    private static async Task<long> CommandsProcessedAsync(IDatabase client)
    {
        var info = (await client.ExecuteAsync("INFO", "stats")).Text()!;
        var line = info.Split("\r\n").First(l => l.StartsWith("total_commands_processed:", StringComparison.Ordinal));
        return long.Parse(line["total_commands_processed:".Length..], CultureInfo.InvariantCulture);
    }
}
