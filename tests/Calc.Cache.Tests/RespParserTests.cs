using System.Buffers;
using System.Text;
using Calc.Cache.Protocol;

namespace Calc.Cache.Tests;

public class RespParserTests
{
    private static readonly RespLimits Limits = new();

    [Fact]
    public void Parses_a_multibulk_command()
    {
        var buffer = Sequence("*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n");
        var request = new RespRequest();

        RespParser.TryParse(ref buffer, request, Limits, out var error).ShouldBe(RespParseStatus.Complete);

        error.ShouldBeNull();
        Args(request).ShouldBe(["GET", "key"]);
        buffer.Length.ShouldBe(0);
    }

    [Fact]
    public void Parses_a_frame_split_into_one_byte_segments()
    {
        const string Frame = "*3\r\n$3\r\nSET\r\n$5\r\nhello\r\n$10\r\nwor\r\nld!!!\r\n";
        var buffer = Sequence(Frame, segmentSize: 1);
        var request = new RespRequest();

        RespParser.TryParse(ref buffer, request, Limits, out _).ShouldBe(RespParseStatus.Complete);

        Args(request).ShouldBe(["SET", "hello", "wor\r\nld!!!"]);
        buffer.Length.ShouldBe(0);
    }

    [Fact]
    public void Every_prefix_of_a_frame_is_incomplete_and_consumes_nothing()
    {
        const string Frame = "*2\r\n$4\r\nECHO\r\n$11\r\nhello world\r\n";
        for (var cut = 1; cut < Frame.Length; cut++)
        {
            var buffer = Sequence(Frame[..cut], segmentSize: 3);
            var before = buffer.Length;

            RespParser.TryParse(ref buffer, new RespRequest(), Limits, out var error).ShouldBe(RespParseStatus.Incomplete, $"cut at {cut}");

            error.ShouldBeNull();
            buffer.Length.ShouldBe(before);
        }
    }

    [Fact]
    public void Pipelined_frames_parse_one_after_another()
    {
        var buffer = Sequence("*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\na\r\nPING\r\n*1\r\n$4\r\nPI", segmentSize: 5);
        var request = new RespRequest();
        var commands = new List<string>();

        while (RespParser.TryParse(ref buffer, request, Limits, out _) == RespParseStatus.Complete)
        {
            commands.Add(string.Join(' ', Args(request)));
        }

        commands.ShouldBe(["PING", "GET a", "PING"]);
        Encoding.ASCII.GetString(buffer.ToArray()).ShouldBe("*1\r\n$4\r\nPI");
    }

    [Fact]
    public void Inline_commands_split_on_spaces_and_honour_quotes()
    {
        var buffer = Sequence("SET  key \"a b\\x41\\n\" 'x'\r\nset k 'don\\'t'\n", segmentSize: 4);
        var request = new RespRequest();

        RespParser.TryParse(ref buffer, request, Limits, out _).ShouldBe(RespParseStatus.Complete);
        Args(request).ShouldBe(["SET", "key", "a bA\n", "x"]);
        RespParser.TryParse(ref buffer, request, Limits, out _).ShouldBe(RespParseStatus.Complete);
        Args(request).ShouldBe(["set", "k", "don't"]);
    }

    [Fact]
    public void Inline_command_with_unbalanced_quotes_is_an_error()
    {
        var buffer = Sequence("SET k 'it''s'\r\n");

        RespParser.TryParse(ref buffer, new RespRequest(), Limits, out var error).ShouldBe(RespParseStatus.Error);

        error.ShouldBe("ERR Protocol error: unbalanced quotes in request");
    }

    [Fact]
    public void Empty_frames_and_blank_lines_are_skipped()
    {
        var buffer = Sequence("*0\r\n\r\n*-1\r\n   \r\nPING\r\n");
        var request = new RespRequest();

        RespParser.TryParse(ref buffer, request, Limits, out _).ShouldBe(RespParseStatus.Complete);

        Args(request).ShouldBe(["PING"]);
    }

    [Theory]
    [InlineData("*x\r\n", "ERR Protocol error: invalid multibulk length")]
    [InlineData("*2\r\n$3\r\nGET\r\n:1\r\n", "ERR Protocol error: expected '$', got ':'")]
    [InlineData("*1\r\n$-5\r\n", "ERR Protocol error: invalid bulk length")]
    [InlineData("*1\r\n$2000\r\n", "ERR Protocol error: invalid bulk length")]
    [InlineData("*3000\r\n", "ERR Protocol error: invalid multibulk length")]
    [InlineData("*1\r\n$3\r\nGETXX", "ERR Protocol error: bulk string not terminated by CRLF")]
    public void Malformed_or_oversized_input_is_an_error(string input, string expected)
    {
        var limits = new RespLimits { MaxBulkLength = 1000, MaxArguments = 2000 };
        var buffer = Sequence(input, segmentSize: 2);

        RespParser.TryParse(ref buffer, new RespRequest(), limits, out var error).ShouldBe(RespParseStatus.Error);

        error.ShouldBe(expected);
    }

    [Fact]
    public void An_inline_line_longer_than_the_limit_is_an_error_even_before_its_newline()
    {
        var limits = new RespLimits { MaxInlineLength = 100 };
        var buffer = Sequence(new string('a', 101));

        RespParser.TryParse(ref buffer, new RespRequest(), limits, out var error).ShouldBe(RespParseStatus.Error);

        error.ShouldBe("ERR Protocol error: too big inline request");
    }

    [Fact]
    public void The_request_size_limit_counts_all_arguments()
    {
        var limits = new RespLimits { MaxBulkLength = 100, MaxRequestBytes = 150 };
        var buffer = Sequence("*3\r\n$3\r\nSET\r\n$100\r\n");

        RespParser.TryParse(ref buffer, new RespRequest(), limits, out var error).ShouldBe(RespParseStatus.Incomplete);
        buffer = Sequence("*3\r\n$3\r\nSET\r\n$100\r\n" + new string('k', 100) + "\r\n$100\r\n");
        RespParser.TryParse(ref buffer, new RespRequest(), limits, out error).ShouldBe(RespParseStatus.Error);
        error.ShouldBe("ERR Protocol error: request exceeds the query buffer limit");
    }

    [Theory]
    [InlineData("*", "a*", true)]
    [InlineData("a*c", "abbbc", true)]
    [InlineData("a?c", "abc", true)]
    [InlineData("a?c", "ac", false)]
    [InlineData("h[ae]llo", "hallo", true)]
    [InlineData("h[^e]llo", "hello", false)]
    [InlineData("h[a-c]llo", "hbllo", true)]
    [InlineData("a\\*b", "a*b", true)]
    [InlineData("a\\*b", "axb", false)]
    [InlineData("user:*:name", "user:42:name", true)]
    public void Glob_matches_like_redis(string pattern, string text, bool expected) =>
        Glob.IsMatch(Encoding.ASCII.GetBytes(pattern), Encoding.ASCII.GetBytes(text)).ShouldBe(expected);

    private static string[] Args(RespRequest request) =>
        [.. Enumerable.Range(0, request.Count).Select(i => Encoding.UTF8.GetString(request[i]))];

    /// <summary>Builds a sequence of segments of <paramref name="segmentSize"/> bytes, as the socket may deliver them.</summary>
    internal static ReadOnlySequence<byte> Sequence(string text, int segmentSize = int.MaxValue)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        if (bytes.Length <= segmentSize)
        {
            return new ReadOnlySequence<byte>(bytes);
        }

        Segment? first = null, last = null;
        for (var offset = 0; offset < bytes.Length; offset += segmentSize)
        {
            var chunk = bytes.AsMemory(offset, Math.Min(segmentSize, bytes.Length - offset));
            last = last is null ? first = new Segment(chunk, 0) : last.Append(chunk);
        }

        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
