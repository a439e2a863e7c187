using System.Text;
using Calc.Gateway.FastLane;

namespace Calc.Gateway.UnitTests;

public sealed class ResponseHeadParserTests
{
    public static TheoryData<string, string> Malformed => new()
    {
        { "not HTTP", "SSH-2.0-OpenSSH\r\n\r\n" },
        { "an interim 1xx", "HTTP/1.1 100 Continue\r\n\r\n" },
        { "a two-digit status", "HTTP/1.1 20 OK\r\n\r\n" },
        { "a status line ending in a bare LF", "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n" },
        { "a header line ending in a bare LF", "HTTP/1.1 200 OK\r\nContent-Length: 0\nX-A: b\r\n\r\n" },
        { "NUL in a value", "HTTP/1.1 200 OK\r\nX-A: b\0c\r\nContent-Length: 0\r\n\r\n" },
        { "a lone CR in a value", "HTTP/1.1 200 OK\r\nX-A: b\rc\r\nContent-Length: 0\r\n\r\n" },
        { "obs-fold", "HTTP/1.1 200 OK\r\nX-A: b\r\n c\r\nContent-Length: 0\r\n\r\n" },
        { "whitespace before the colon", "HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n" },
        { "a line without a colon", "HTTP/1.1 200 OK\r\nnonsense\r\n\r\n" },
        { "duplicate Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx" },
        { "an invalid Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\nx" },
        { "Transfer-Encoding with Content-Length", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n" },
        { "a Transfer-Encoding other than chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n" },
    };

    [Fact]
    public void A_kept_alive_answer_with_a_length_is_framed_by_it()
    {
        const string Head = "HTTP/1.1 201 Created\r\nContent-Length: 5\r\nX-Calc-Load: 3/8\r\nConnection: keep-alive\r\n\r\n";
        var (parse, head) = Parse(Head + "hello");

        parse.ShouldBe(HeadParse.Parsed);
        head.Status.ShouldBe(201);
        head.Length.ShouldBe(Head.Length);
        head.Framing.ShouldBe(BodyFraming.Length);
        head.ContentLength.ShouldBe(5);
        head.KeepAlive.ShouldBeTrue();
        Encoding.ASCII.GetString(Encoding.ASCII.GetBytes(Head).AsSpan()[head.Load]).ShouldBe("3/8");
    }

    [Fact]
    public void A_chunked_answer_is_framed_by_its_chunks()
    {
        var (parse, head) = Parse("HTTP/1.1 200 OK\r\ntransfer-encoding: Chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");

        parse.ShouldBe(HeadParse.Parsed);
        head.Framing.ShouldBe(BodyFraming.Chunked);
        head.KeepAlive.ShouldBeTrue();
    }

    [Fact]
    public void An_answer_without_a_length_runs_to_the_close_and_the_connection_is_not_reused()
    {
        var (parse, head) = Parse("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end");

        parse.ShouldBe(HeadParse.Parsed);
        head.Framing.ShouldBe(BodyFraming.UntilClose);
        head.KeepAlive.ShouldBeFalse();
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")]
    [InlineData("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")]
    public void Connection_close_or_HTTP_1_0_means_the_instance_connection_is_not_reused(string text)
    {
        var (parse, head) = Parse(text);

        parse.ShouldBe(HeadParse.Parsed);
        head.KeepAlive.ShouldBeFalse();
    }

    [Theory]
    [InlineData("HTTP/1.1 204 No Content\r\n\r\n", false)]
    [InlineData("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", false)]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n", true)]
    public void Answers_to_HEAD_and_204_and_304_have_no_body_whatever_their_length_says(string text, bool toHead)
    {
        var data = Encoding.ASCII.GetBytes(text);
        var parse = ResponseHeadParser.Parse(data, toHead, out var head);

        parse.ShouldBe(HeadParse.Parsed);
        head.Framing.ShouldBe(BodyFraming.None);
        head.ContentLength.ShouldBe(0);
        head.KeepAlive.ShouldBeTrue();
    }

    [Fact]
    public void A_response_head_split_across_reads_needs_more_until_its_empty_line_arrives()
    {
        const string Text = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A: b\r\n\r\n";

        for (var cut = 0; cut < Text.Length; cut++)
        {
            Parse(Text[..cut]).Parse.ShouldBe(HeadParse.NeedMore, $"cut after {cut} bytes");
        }

        Parse(Text).Parse.ShouldBe(HeadParse.Parsed);
    }

    [Theory]
    [MemberData(nameof(Malformed))]
    public void A_malformed_answer_is_rejected_with_a_reason(string name, string text)
    {
        var (parse, head) = Parse(text);

        parse.ShouldBe(HeadParse.Reject, name);
        head.Problem.ShouldNotBeNullOrEmpty(name);
    }

    private static (HeadParse Parse, ResponseHead Head) Parse(string text)
    {
        var parse = ResponseHeadParser.Parse(Encoding.Latin1.GetBytes(text), false, out var head);
        return (parse, head);
    }
}
