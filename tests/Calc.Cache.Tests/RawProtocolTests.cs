using System.Text;

namespace Calc.Cache.Tests;

/// <summary>Raw bytes over a real socket against our started server.</summary>
public class RawProtocolTests(CacheServerFixture server)
{
    [Fact]
    public async Task Ping_answers_pong()
    {
        await using var connection = await RawConnection.OpenAsync(server.Port);

        (await connection.ExchangeAsync("*1\r\n$4\r\nPING\r\n", "+PONG\r\n")).ShouldBe("+PONG\r\n");
    }

    [Fact]
    public async Task Command_names_match_in_any_case_and_near_misses_are_unknown()
    {
        await using var connection = await RawConnection.OpenAsync(server.Port);
        var key = Tools.UniquePrefix();

        var replies = await connection.ExchangeAsync(
            $"sEt {key} v\r\nGeT {key}\r\nget {key}\r\nGEt {key}\r\nGEU {key}\r\n",
            $"+OK\r\n$1\r\nv\r\n$1\r\nv\r\n$1\r\nv\r\n-ERR unknown command 'GEU', with args beginning with: '{key}' \r\n");

        replies.ShouldBe($"+OK\r\n$1\r\nv\r\n$1\r\nv\r\n$1\r\nv\r\n-ERR unknown command 'GEU', with args beginning with: '{key}' \r\n");
    }

    [Fact]
    public async Task Inline_commands_work_as_typed_in_telnet()
    {
        await using var connection = await RawConnection.OpenAsync(server.Port);
        var key = Tools.UniquePrefix();

        (await connection.ExchangeAsync("PING\r\n", "+PONG\r\n")).ShouldBe("+PONG\r\n");
        (await connection.ExchangeAsync($"SET {key} \"hello world\"\n", "+OK\r\n")).ShouldBe("+OK\r\n");
        (await connection.ExchangeAsync($"GET {key}\r\n", "$11\r\nhello world\r\n")).ShouldBe("$11\r\nhello world\r\n");
    }

    [Fact]
    public async Task A_pipelined_batch_gets_every_reply_in_request_order()
    {
        await using var connection = await RawConnection.OpenAsync(server.Port);
        var key = Tools.UniquePrefix();
        var request = new StringBuilder();
        var expected = new StringBuilder();
        for (var i = 0; i < 500; i++)
        {
            var value = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            request.Append($"*3\r\n$3\r\nSET\r\n${key.Length}\r\n{key}\r\n${value.Length}\r\n{value}\r\n");
            request.Append($"*2\r\n$3\r\nGET\r\n${key.Length}\r\n{key}\r\n");
            request.Append($"*2\r\n$4\r\nINCR\r\n${key.Length}\r\n{key}\r\n");
            expected.Append($"+OK\r\n${value.Length}\r\n{value}\r\n:{i + 1}\r\n");
        }

        (await connection.ExchangeAsync(request.ToString(), expected.ToString())).ShouldBe(expected.ToString());
    }

    [Theory]
    [InlineData("*2\r\n$3\r\nFOO\r\n$3\r\nbar\r\n", "-ERR unknown command 'FOO', with args beginning with: 'bar' \r\n")]
    [InlineData("*1\r\n$3\r\nGET\r\n", "-ERR wrong number of arguments for 'get' command\r\n")]
    [InlineData("*2\r\n$6\r\nSELECT\r\n$2\r\n16\r\n", "-ERR DB index is out of range\r\n")]
    [InlineData("*2\r\n$6\r\nSELECT\r\n$2\r\n15\r\n", "+OK\r\n")]
    [InlineData("*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n", "+OK\r\n")]
    [InlineData("*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n$3\r\nBAD\r\n", "-ERR syntax error\r\n")]
    [InlineData("*2\r\n$4\r\nXLEN\r\n$1\r\nk\r\n", "-ERR unknown command 'XLEN', with args beginning with: 'k' (Calc.Cache does not support this Redis command; see cache/README.md)\r\n")]
    public async Task Errors_use_redis_texts(string request, string expected)
    {
        await using var connection = await RawConnection.OpenAsync(server.Port);

        (await connection.ExchangeAsync(request, expected)).ShouldBe(expected);
    }

    [Fact]
    public async Task Resp3_after_hello_3_uses_maps_and_null()
    {
        await using var connection = await RawConnection.OpenAsync(server.Port);
        var key = Tools.UniquePrefix();
        await connection.SendAsync("HELLO 3\r\nPING\r\n");
        var hello = await connection.ReadUntilAsync("+PONG\r\n");
        hello.ShouldStartWith("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n");

        await connection.SendAsync($"HSET {key} f v\r\nHGETALL {key}\r\nGET missing:{key}\r\n");

        (await connection.ReadAsync(":1\r\n%1\r\n$1\r\nf\r\n$1\r\nv\r\n_\r\n".Length)).ShouldBe(":1\r\n%1\r\n$1\r\nf\r\n$1\r\nv\r\n_\r\n");
    }

    [Fact]
    public async Task Malformed_input_gets_an_error_and_closes_only_that_connection()
    {
        await using var bystander = await RawConnection.OpenAsync(server.Port);
        await using var offender = await RawConnection.OpenAsync(server.Port);

        await offender.SendAsync("*1\r\n$abc\r\n");

        (await offender.ReadAsync(100)).ShouldBe("-ERR Protocol error: invalid bulk length\r\n");
        (await offender.DrainUntilClosedAsync(TimeSpan.FromSeconds(5))).ShouldBe(0);
        (await bystander.ExchangeAsync("PING\r\n", "+PONG\r\n")).ShouldBe("+PONG\r\n");
    }

    [Fact]
    public async Task A_bulk_longer_than_512MB_is_refused_before_any_data_is_read()
    {
        await using var connection = await RawConnection.OpenAsync(server.Port);

        await connection.SendAsync("*2\r\n$3\r\nGET\r\n$536870913\r\n");

        (await connection.ReadAsync(100)).ShouldBe("-ERR Protocol error: invalid bulk length\r\n");
        (await connection.DrainUntilClosedAsync(TimeSpan.FromSeconds(5))).ShouldBe(0);
    }

    [Fact]
    public async Task An_endless_inline_line_is_cut_at_64KB()
    {
        await using var connection = await RawConnection.OpenAsync(server.Port);

        await connection.SendAsync(new string('x', 70 * 1024));

        (await connection.ReadAsync(100)).ShouldBe("-ERR Protocol error: too big inline request\r\n");
    }

    [Fact]
    public async Task Quit_answers_ok_and_closes()
    {
        await using var connection = await RawConnection.OpenAsync(server.Port);

        (await connection.ExchangeAsync("QUIT\r\n", "+OK\r\n")).ShouldBe("+OK\r\n");
        (await connection.DrainUntilClosedAsync(TimeSpan.FromSeconds(5))).ShouldBe(0);
    }
}
