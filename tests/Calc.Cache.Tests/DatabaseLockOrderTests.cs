using System.Text;
using Calc.Cache.Server;

namespace Calc.Cache.Tests;

/// <summary>
/// Commands over two databases lock the lower database's stripe first: MOVE and COPY ... DB from db 0 to db 1 and
/// from db 1 to db 0 at once, on two event loops, on the same key (so the same stripe index in both), never deadlock.
/// </summary>
public class DatabaseLockOrderTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Move_and_copy_in_opposite_directions_on_two_loops_all_get_answers()
    {
        await using var server = await CacheServer.StartAsync(new CacheServerOptions { Port = 0, IoThreads = 2, LoopBalancing = null }, Token);
        await using var up = await RawConnection.OpenAsync(server.Port);
        (await up.ExchangeAsync("PING\r\n", "+PONG\r\n")).ShouldBe("+PONG\r\n");
        server.MoveConnections(0, 1);
        for (var attempt = 0; attempt < 100 && !(await ThreadsAsync(up)).Contains("io_thread_1:clients=1,", StringComparison.Ordinal); attempt++)
        {
            await Task.Delay(20, Token);
        }

        await using var down = await RawConnection.OpenAsync(server.Port); // on loop 0 while the other is on loop 1

        (await ThreadsAsync(down)).ShouldContain("io_thread_0:clients=1,");
        (await up.ExchangeAsync("SELECT 0\r\n", "+OK\r\n")).ShouldBe("+OK\r\n");
        (await down.ExchangeAsync("SELECT 1\r\n", "+OK\r\n")).ShouldBe("+OK\r\n");

        const int Rounds = 3000;
        static string Pipeline(int other)
        {
            var text = new StringBuilder();
            for (var i = 0; i < Rounds; i++)
            {
                text.Append(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"SET k v\r\nMOVE k {other}\r\nCOPY k k DB {other} REPLACE\r\n"));
            }

            return text.ToString();
        }

        var upward = up.SendAsync(Pipeline(1));
        var downward = down.SendAsync(Pipeline(0));
        await Task.WhenAll(upward, downward);

        // Each round answers +OK, then :0 or :1 twice: 13 bytes.
        var upReplies = await up.ReadAsync(13 * Rounds, TimeSpan.FromSeconds(120));
        var downReplies = await down.ReadAsync(13 * Rounds, TimeSpan.FromSeconds(120));

        upReplies.Length.ShouldBe(13 * Rounds, "the connection moving keys up stopped getting answers");
        downReplies.Length.ShouldBe(13 * Rounds, "the connection moving keys down stopped getting answers");
        (await up.ExchangeAsync("PING\r\n", "+PONG\r\n")).ShouldBe("+PONG\r\n");
    }

    private static async Task<string> ThreadsAsync(RawConnection connection)
    {
        await connection.SendAsync("INFO threads\r\n");
        var header = await connection.ReadUntilAsync("\r\n");
        return await connection.ReadAsync(int.Parse(header[1..^2], System.Globalization.CultureInfo.InvariantCulture) + 2);
    }
}
