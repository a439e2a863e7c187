using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Calc.Cache.Client;
using Calc.Cache.Server;

namespace Calc.Cache.Tests;

/// <summary>A server with a short output timeout, on the transport a subclass picks.</summary>
public abstract class LoopServerFixture(bool socketTransport) : IAsyncLifetime
{
    private CacheServer? _server;

    public int Port => _server!.Port;

    public bool SocketTransport => socketTransport;

    public async ValueTask InitializeAsync() => _server = await CacheServer.StartAsync(Options(socketTransport));

    public async ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

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

    [Fact]
    public async Task A_command_sent_one_byte_at_a_time_gets_exactly_one_reply()
    {
        var key = Tools.UniquePrefix();
        using var socket = await ConnectAsync(server.Port);
        var request = Encoding.ASCII.GetBytes($"*3\r\n$3\r\nSET\r\n${key.Length}\r\n{key}\r\n$5\r\nhello\r\n*2\r\n$3\r\nGET\r\n${key.Length}\r\n{key}\r\n");
        foreach (var b in request)
        {
            await socket.SendAsync(new[] { b }, SocketFlags.None, Token);
            await Task.Delay(1, Token); // separate segments: the server sees every prefix of both frames
        }

        (await ReadExactlyAsync(socket, "+OK\r\n$5\r\nhello\r\n".Length)).ShouldBe("+OK\r\n$5\r\nhello\r\n");
    }

    [Fact]
    public async Task Ten_thousand_pipelined_commands_in_one_write_get_every_reply_in_order()
    {
        var key = Tools.UniquePrefix();
        using var socket = await ConnectAsync(server.Port);
        const int count = 10_000;
        var frame = $"*2\r\n$4\r\nINCR\r\n${key.Length}\r\n{key}\r\n";
        var batch = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat(frame, count)));
        var expected = string.Concat(Enumerable.Range(1, count).Select(i => string.Create(CultureInfo.InvariantCulture, $":{i}\r\n")));

        var send = socket.SendAsync(batch, SocketFlags.None, Token).AsTask(); // read while sending: ~200 KB of requests
        var replies = await ReadExactlyAsync(socket, expected.Length);
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

        using var socket = await ConnectAsync(server.Port);
        var header = Encoding.ASCII.GetBytes($"*3\r\n$3\r\nSET\r\n${key.Length}\r\n{key}\r\n${value.Length}\r\n");
        await socket.SendAsync(header.Concat(value).Concat("\r\n"u8.ToArray()).ToArray(), SocketFlags.None, Token);
        (await ReadExactlyAsync(socket, 5)).ShouldBe("+OK\r\n");

        await socket.SendAsync(Encoding.ASCII.GetBytes($"GET {key}\r\nPING\r\n"), SocketFlags.None, Token);
        var replyHeader = Encoding.ASCII.GetBytes($"${value.Length}\r\n");
        var reply = await ReadBytesAsync(socket, replyHeader.Length + value.Length + 2 + 7);

        reply.AsSpan(0, replyHeader.Length).SequenceEqual(replyHeader).ShouldBeTrue();
        reply.AsSpan(replyHeader.Length, value.Length).SequenceEqual(value).ShouldBeTrue();
        Encoding.ASCII.GetString(reply, replyHeader.Length + value.Length, 9).ShouldBe("\r\n+PONG\r\n");
    }

    [Fact]
    public async Task A_client_that_never_reads_its_replies_stops_being_served_and_is_closed_after_the_output_timeout()
    {
        var key = Tools.UniquePrefix();
        await using (var client = await CacheClient.ConnectAsync(new CacheClientOptions { Port = server.Port }, Token))
        {
            await client.SetAsync(key, new byte[256 * 1024], cancellationToken: Token);
        }

        await using var monitor = await CacheClient.ConnectAsync(new CacheClientOptions { Port = server.Port }, Token);
        using var reader = await ConnectAsync(server.Port);
        reader.ReceiveBufferSize = 64 * 1024;
        var before = await CommandsProcessedAsync(monitor);

        // 4000 GETs of 256 KB ask for 1 GB of replies; the client reads nothing.
        const int gets = 4000;
        var batch = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat($"GET {key}\r\n", gets)));
        _ = reader.SendAsync(batch, SocketFlags.None, Token).AsTask().ContinueWith(static _ => { }, TaskScheduler.Default);
        await Task.Delay(1000, Token);

        // While the replies wait, the server runs no more of this client's commands: pending output stays a few
        // socket buffers' worth, not the 1 GB the pipeline asks for.
        var served = await CommandsProcessedAsync(monitor) - before;
        served.ShouldBeLessThan(200, $"commands served while the client read nothing: {served}");
        await Task.Delay(2500, Token); // past the 2 s output timeout without reading

        var received = await DrainUntilClosedAsync(reader, TimeSpan.FromSeconds(15));
        received.ShouldBeGreaterThanOrEqualTo(0, "the server should have closed the connection after the output timeout");
        received.ShouldBeLessThan(200L * 256 * 1024);
        (await monitor.PingAsync(Token)).ShouldBe("PONG");
    }

    [Fact]
    public async Task A_protocol_error_gets_its_error_and_closes_only_that_connection()
    {
        using var bystander = await ConnectAsync(server.Port);
        using var offender = await ConnectAsync(server.Port);

        await offender.SendAsync("PING\r\n*1\r\n$abc\r\nPING\r\n"u8.ToArray(), SocketFlags.None, Token);

        (await ReadToEndAsync(offender)).ShouldBe("+PONG\r\n-ERR Protocol error: invalid bulk length\r\n");
        await bystander.SendAsync("PING\r\n"u8.ToArray(), SocketFlags.None, Token);
        (await ReadExactlyAsync(bystander, 7)).ShouldBe("+PONG\r\n");
    }

    [Fact]
    public async Task Quit_answers_ok_then_closes_and_ignores_what_follows()
    {
        var key = Tools.UniquePrefix();
        using var socket = await ConnectAsync(server.Port);

        await socket.SendAsync(Encoding.ASCII.GetBytes($"PING\r\nQUIT\r\nSET {key} v\r\n"), SocketFlags.None, Token);

        (await ReadToEndAsync(socket)).ShouldBe("+PONG\r\n+OK\r\n");
        await using var client = await CacheClient.ConnectAsync(new CacheClientOptions { Port = server.Port }, Token);
        (await client.GetAsync(key, Token)).ShouldBeNull();
    }

    [Fact]
    public async Task Replies_still_arrive_after_the_client_half_closes()
    {
        var key = Tools.UniquePrefix();
        using var socket = await ConnectAsync(server.Port);
        await socket.SendAsync(Encoding.ASCII.GetBytes($"SET {key} v\r\nGET {key}\r\n"), SocketFlags.None, Token);
        socket.Shutdown(SocketShutdown.Send);

        (await ReadToEndAsync(socket)).ShouldBe("+OK\r\n$1\r\nv\r\n");
    }

    [Fact]
    public async Task Past_maxclients_a_new_connection_gets_the_error_and_is_closed()
    {
        await using var small = await CacheServer.StartAsync(LoopServerFixture.Options(server.SocketTransport, maxClients: 1), Token);
        using var first = await ConnectAsync(small.Port);
        await first.SendAsync("PING\r\n"u8.ToArray(), SocketFlags.None, Token);
        (await ReadExactlyAsync(first, 7)).ShouldBe("+PONG\r\n");

        using var second = await ConnectAsync(small.Port);

        (await ReadToEndAsync(second)).ShouldBe("-ERR max number of clients reached\r\n");
        await first.SendAsync("PING\r\n"u8.ToArray(), SocketFlags.None, Token);
        (await ReadExactlyAsync(first, 7)).ShouldBe("+PONG\r\n");
    }

    [Fact]
    public async Task Stopping_the_server_closes_idle_clients_without_waiting_for_the_shutdown_timeout()
    {
        var own = await CacheServer.StartAsync(LoopServerFixture.Options(server.SocketTransport), Token);
        using var idle = await ConnectAsync(own.Port);
        await idle.SendAsync("PING\r\n"u8.ToArray(), SocketFlags.None, Token);
        (await ReadExactlyAsync(idle, 7)).ShouldBe("+PONG\r\n");

        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        await own.DisposeAsync();

        stopwatch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(4)); // the host's shutdown timeout is 5 s
        (await ReadToEndAsync(idle)).ShouldBe("");
    }

    private static async Task<long> CommandsProcessedAsync(CacheClient client)
    {
        var info = (await client.ExecuteAsync("INFO", ["stats"], Token)).AsString()!;
        var line = info.Split("\r\n").First(l => l.StartsWith("total_commands_processed:", StringComparison.Ordinal));
        return long.Parse(line["total_commands_processed:".Length..], CultureInfo.InvariantCulture);
    }

    private static async Task<Socket> ConnectAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(IPAddress.Loopback, port, Token);
        return socket;
    }

    private static async Task<string> ReadExactlyAsync(Socket socket, int length) =>
        Encoding.ASCII.GetString(await ReadBytesAsync(socket, length));

    private static async Task<byte[]> ReadBytesAsync(Socket socket, int length)
    {
        var buffer = new byte[length];
        var read = 0;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        while (read < length)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, timeout.Token);
            if (n == 0)
            {
                break;
            }

            read += n;
        }

        return buffer[..read];
    }

    /// <summary>Everything until the server closes (10 s at most).</summary>
    private static async Task<string> ReadToEndAsync(Socket socket)
    {
        var text = new StringBuilder();
        var buffer = new byte[4096];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        int n;
        while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0)
        {
            text.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }

        return text.ToString();
    }

    /// <summary>Bytes read before the server closed the connection, or -1 if it stayed open for <paramref name="within"/>.</summary>
    private static async Task<long> DrainUntilClosedAsync(Socket socket, TimeSpan within)
    {
        var buffer = new byte[64 * 1024];
        long total = 0;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
        timeout.CancelAfter(within);
        try
        {
            while (true)
            {
                var n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
                if (n == 0)
                {
                    return total;
                }

                total += n;
            }
        }
        catch (SocketException)
        {
            return total; // reset by the server counts as closed
        }
        catch (OperationCanceledException)
        {
            return -1;
        }
    }
}
