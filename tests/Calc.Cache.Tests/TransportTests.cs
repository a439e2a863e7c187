using System.Net.Sockets;
using System.Text;
using Calc.Cache.Server;

namespace Calc.Cache.Tests;

/// <summary>The byte-moving edge cases of the connection transport (the epoll event loops on Linux x64).</summary>
public class TransportTests(CacheServerFixture server)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public void The_epoll_transport_serves_on_linux_x64()
    {
        EpollTransportFactory.IsSupported.ShouldBe(OperatingSystem.IsLinux() && System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64);
    }

    [Fact]
    public async Task A_large_reply_read_slowly_arrives_intact()
    {
        var key = Tools.UniquePrefix();
        var value = new byte[16 * 1024 * 1024];
        for (var i = 0; i < value.Length; i++)
        {
            value[i] = (byte)('a' + (i % 26));
        }

        await using (var client = await Clients.ConnectAsync(server.Port))
        {
            await client.GetDatabase().StringSetAsync(key, value);
        }

        await using var connection = await RawConnection.OpenAsync(server.Port);
        await connection.SendAsync(Encoding.ASCII.GetBytes($"GET {key}\r\nPING\r\n"));
        await Task.Delay(300, Token); // 16 MB exceed the loopback socket buffers: the server has to wait for EPOLLOUT

        var header = Encoding.ASCII.GetBytes($"${value.Length}\r\n");
        var expected = header.Concat(value).Concat("\r\n+PONG\r\n"u8.ToArray()).ToArray();
        var received = new byte[expected.Length];
        var read = 0;
        var chunks = 0;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        while (read < received.Length)
        {
            var n = await connection.Socket.ReceiveAsync(received.AsMemory(read, Math.Min(64 * 1024, received.Length - read)), SocketFlags.None, timeout.Token);
            n.ShouldBeGreaterThan(0, "the server closed the connection early");
            read += n;
            if (++chunks % 16 == 0)
            {
                await Task.Delay(1, Token); // a slow reader
            }
        }

        received.AsSpan().SequenceEqual(expected).ShouldBeTrue();
    }

    [Fact]
    public async Task Connections_that_come_and_go_leave_no_client_behind()
    {
        await using var own = await CacheServer.StartAsync(new CacheServerOptions { Port = 0 }, Token);
        for (var i = 0; i < 50; i++)
        {
            await using var connection = await RawConnection.OpenAsync(own.Port);
            await connection.SendAsync("*1\r\n$4\r\nPING\r\n"u8.ToArray());
            if (i % 2 == 0)
            {
                var buffer = new byte[7];
                (await connection.Socket.ReceiveAsync(buffer, SocketFlags.None, Token)).ShouldBeGreaterThan(0);
            }
            else
            {
                connection.Socket.LingerState = new LingerOption(true, 0); // close with a reset, reply unread
            }
        }

        await using var clientConnection = await Clients.ConnectAsync(own.Port);
        var client = clientConnection.GetDatabase();
        long connected = -1;
        for (var attempt = 0; attempt < 50 && connected != 1; attempt++)
        {
            var info = (await client.ExecuteAsync("INFO", "clients")).Text()!;
            var line = info.Split("\r\n").First(l => l.StartsWith("connected_clients:", StringComparison.Ordinal));
            connected = long.Parse(line["connected_clients:".Length..], System.Globalization.CultureInfo.InvariantCulture);
            if (connected != 1)
            {
                await Task.Delay(100, Token);
            }
        }

        connected.ShouldBe(1);
        (await client.ExecuteAsync("PING")).Text().ShouldBe("PONG");
    }
}
