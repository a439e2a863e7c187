using System.Globalization;
using System.Text;
using Calc.Testing;

namespace Calc.Cache.Tests;

/// <summary>Pub/sub over raw RESP: subscriber mode, RESP3 pushes, and the output limit for subscribers that do not read.</summary>
public class PubSubTests(CacheServerFixture server, RedisServer redis)
{
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

    public static TheoryData<string> Servers => ["calc-cache", "redis-server"];

    private int PortOf(string name) => name == "calc-cache" ? server.Port : redis.Port;

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task Resp2_subscriber_mode_refuses_other_commands_and_delivers_channel_and_pattern_messages(string name)
    {
        var channel = Tools.UniquePrefix();
        var n = channel.Length;
        await using var subscriber = await RawConnection.OpenAsync(PortOf(name));
        await using var publisher = await RawConnection.OpenAsync(PortOf(name));
        var subscribed = await subscriber.ExchangeAsync(
            Command("SUBSCRIBE", channel, channel + ":2") + Command("PSUBSCRIBE", channel + "*"),
            $"*3\r\n$9\r\nsubscribe\r\n${n}\r\n{channel}\r\n:1\r\n" +
            $"*3\r\n$9\r\nsubscribe\r\n${n + 2}\r\n{channel}:2\r\n:2\r\n" +
            $"*3\r\n$10\r\npsubscribe\r\n${n + 1}\r\n{channel}*\r\n:3\r\n");
        var refusedAndPings = await subscriber.ExchangeAsync(
            Command("GET", "x") + Command("PING") + Command("PING", "hi"),
            "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n" +
            "*2\r\n$4\r\npong\r\n$0\r\n\r\n*2\r\n$4\r\npong\r\n$2\r\nhi\r\n");

        var receivers = await publisher.ExchangeAsync(Command("PUBLISH", channel, "hello"), ":2\r\n");
        var expectedMessages =
            $"*3\r\n$7\r\nmessage\r\n${n}\r\n{channel}\r\n$5\r\nhello\r\n" +
            $"*4\r\n$8\r\npmessage\r\n${n + 1}\r\n{channel}*\r\n${n}\r\n{channel}\r\n$5\r\nhello\r\n";
        var messages = await subscriber.ReadAsync(expectedMessages.Length);
        var unsubscribed = await subscriber.ExchangeAsync(
            Command("UNSUBSCRIBE", channel, channel + ":2") + Command("PUNSUBSCRIBE") + Command("UNSUBSCRIBE") + "PING\r\n",
            $"*3\r\n$11\r\nunsubscribe\r\n${n}\r\n{channel}\r\n:2\r\n" +
            $"*3\r\n$11\r\nunsubscribe\r\n${n + 2}\r\n{channel}:2\r\n:1\r\n" +
            $"*3\r\n$12\r\npunsubscribe\r\n${n + 1}\r\n{channel}*\r\n:0\r\n" +
            "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n+PONG\r\n");

        subscribed.ShouldBe(
            $"*3\r\n$9\r\nsubscribe\r\n${n}\r\n{channel}\r\n:1\r\n" +
            $"*3\r\n$9\r\nsubscribe\r\n${n + 2}\r\n{channel}:2\r\n:2\r\n" +
            $"*3\r\n$10\r\npsubscribe\r\n${n + 1}\r\n{channel}*\r\n:3\r\n");
        refusedAndPings.ShouldBe(
            "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n" +
            "*2\r\n$4\r\npong\r\n$0\r\n\r\n*2\r\n$4\r\npong\r\n$2\r\nhi\r\n");
        receivers.ShouldBe(":2\r\n");
        messages.ShouldBe(expectedMessages);
        unsubscribed.ShouldBe(
            $"*3\r\n$11\r\nunsubscribe\r\n${n}\r\n{channel}\r\n:2\r\n" +
            $"*3\r\n$11\r\nunsubscribe\r\n${n + 2}\r\n{channel}:2\r\n:1\r\n" +
            $"*3\r\n$12\r\npunsubscribe\r\n${n + 1}\r\n{channel}*\r\n:0\r\n" +
            "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n+PONG\r\n");
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task Resp3_subscribers_get_push_messages_and_may_run_other_commands(string name)
    {
        var channel = Tools.UniquePrefix();
        await using var subscriber = await RawConnection.OpenAsync(PortOf(name));
        await using var publisher = await RawConnection.OpenAsync(PortOf(name));
        await subscriber.SendAsync(Command("HELLO", "3") + "PING\r\n");
        await subscriber.ReadUntilAsync("+PONG\r\n");
        await subscriber.SendAsync(Command("SUBSCRIBE", channel) + Command("GET", channel));
        var subscribed = await subscriber.ReadUntilAsync("_\r\n");

        (await publisher.ExchangeAsync(Command("PUBLISH", channel, "pushed"), ":1\r\n")).ShouldBe(":1\r\n");
        var message = await subscriber.ReadUntilAsync("$6\r\npushed\r\n");

        subscribed.ShouldBe($">3\r\n$9\r\nsubscribe\r\n${channel.Length}\r\n{channel}\r\n:1\r\n_\r\n");
        message.ShouldBe($">3\r\n$7\r\nmessage\r\n${channel.Length}\r\n{channel}\r\n$6\r\npushed\r\n");
    }

    [Fact]
    public async Task A_subscriber_that_never_reads_is_disconnected_at_the_pubsub_output_limit_and_memory_stays_bounded()
    {
        await using var process = await CacheServerProcess.StartNewAsync("--client-output-buffer-limit", "pubsub 4mb 1mb 60");
        var channel = Tools.UniquePrefix();
        await using var publisher = await RawConnection.OpenAsync(process.Port);
        var rssBefore = await RssAsync(publisher);
        await using var subscriber = await RawConnection.OpenAsync(process.Port);
        subscriber.Socket.ReceiveBufferSize = 4096;
        await subscriber.SendAsync(Command("SUBSCRIBE", channel));
        await subscriber.ReadUntilAsync(":1\r\n"); // from now on it reads nothing

        var payload = new string('x', 64 * 1024);
        var publish = Encoding.ASCII.GetBytes(Command("PUBLISH", channel, payload));
        long published = 0;
        var receivers = -1;
        for (var i = 0; i < 4000 && receivers != 0; i++) // at most 256 MB of messages
        {
            await publisher.SendAsync(publish);
            var reply = await publisher.ReadUntilAsync("\r\n");
            receivers = int.Parse(reply.AsSpan(1, reply.Length - 3), CultureInfo.InvariantCulture);
            published += payload.Length;
        }

        var rssAfter = await RssAsync(publisher);
        receivers.ShouldBe(0, "the subscriber was disconnected");
        published.ShouldBeLessThan(64L * 1024 * 1024, "disconnected near the 4 MB limit, not after the whole flood");
        (rssAfter - rssBefore).ShouldBeLessThan(96L * 1024 * 1024, $"RSS before {rssBefore}, after {rssAfter}");
        (await publisher.ExchangeAsync(Command("PUBSUB", "NUMSUB", channel), $"*2\r\n${channel.Length}\r\n{channel}\r\n:0\r\n"))
            .ShouldBe($"*2\r\n${channel.Length}\r\n{channel}\r\n:0\r\n");
        (await InfoFieldAsync(publisher, "clients", "connected_clients")).ShouldBe("1", "only the publisher is still connected");
    }

    [Fact]
    public async Task The_pubsub_output_limit_is_settable_and_reported_by_config()
    {
        await using var connection = await RawConnection.OpenAsync(server.Port);
        await connection.SendAsync(Command("CONFIG", "GET", "client-output-buffer-limit"));
        var reply = await connection.ReadUntilAsync("60\r\n");

        reply.ShouldContain("pubsub 33554432 8388608 60");
        (await connection.ExchangeAsync(Command("CONFIG", "SET", "client-output-buffer-limit", "pubsub nope 1 1"), "-ERR")).ShouldBe("-ERR");
    }

    private static async Task<long> RssAsync(RawConnection connection) =>
        long.Parse(await InfoFieldAsync(connection, "memory", "used_memory_rss"), CultureInfo.InvariantCulture);

    private static async Task<string> InfoFieldAsync(RawConnection connection, string section, string field)
    {
        await connection.SendAsync(Command("INFO", section));
        var header = await connection.ReadUntilAsync("\r\n");
        var length = int.Parse(header.AsSpan(1, header.Length - 3), CultureInfo.InvariantCulture);
        var body = await connection.ReadAsync(length + 2);
        return body.Split("\r\n").First(l => l.StartsWith(field + ":", StringComparison.Ordinal))[(field.Length + 1)..];
    }
}
