using System.Text;
using Calc.Gateway.FastLane;
using Calc.Gateway.Http;

namespace Calc.Gateway.UnitTests;

public sealed class RequestHeadParserTests
{
    private const long MaxBody = 1024;

    /// <summary>Heads a strict parser refuses, with what the refusal says; the fast lane answers each 400 and closes.</summary>
    public static TheoryData<string, string, string> Refused => new()
    {
        { "control byte in a name", "GET /a HTTP/1.1\r\nHost: a\r\n\u0001Content-Length: 1\r\n\r\nx", HeadRules.NameNotToken },
        { "control byte in a name of a POST", "POST /a HTTP/1.1\r\nHost: a\r\n\u0001Content-Length: 1\r\n\r\nx", HeadRules.NameNotToken },
        { "non-token character in a name", "GET /a HTTP/1.1\r\nHost: a\r\nX(A): b\r\n\r\n", HeadRules.NameNotToken },
        { "empty name", "GET /a HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n", HeadRules.NameNotToken },
        { "LF inside a value", "GET /a HTTP/1.1\r\nHost: a\r\nX-A: b\nContent-Length: 1\r\n\r\nx", HeadRules.BareLineFeed },
        { "NUL inside a value", "GET /a HTTP/1.1\r\nHost: a\r\nX-A: b\0c\r\n\r\n", HeadRules.ControlInValue },
        { "lone CR inside a value", "GET /a HTTP/1.1\r\nHost: a\r\nX-A: b\rc\r\n\r\n", HeadRules.ControlInValue },
        { "CR at the end of a value", "GET /a HTTP/1.1\r\nHost: a\r\nX-A: b\r\r\n\r\n", HeadRules.ControlInValue },
        { "other C0 control in a value", "GET /a HTTP/1.1\r\nHost: a\r\nX-A: b\u001bc\r\n\r\n", HeadRules.ControlInValue },
        { "DEL in a value", "GET /a HTTP/1.1\r\nHost: a\r\nX-A: b\u007fc\r\n\r\n", HeadRules.ControlInValue },
        { "control byte in the Host value", "GET /a HTTP/1.1\r\nHost: a\u0000b\r\n\r\n", HeadRules.ControlInValue },
        { "request line ending in a bare LF", "GET /a HTTP/1.1\nHost: a\r\n\r\n", HeadRules.BareLineFeed },
        { "lines separated by bare LFs", "GET /a HTTP/1.1\nHost: a\nContent-Length: 1\n\nx", HeadRules.BareLineFeed },
        { "a header line ending in a bare LF", "GET /a HTTP/1.1\r\nHost: a\nX-A: b\r\n\r\n", HeadRules.BareLineFeed },
        { "an empty line that is a bare LF", "GET /a HTTP/1.1\r\nHost: a\r\n\nGET /b HTTP/1.1\r\n\r\n", HeadRules.BareLineFeed },
        { "obs-fold", "GET /a HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n", HeadRules.ObsoleteFold },
        { "obs-fold with HTAB", "GET /a HTTP/1.1\r\nHost: a\r\nX-A: b\r\n\tc\r\n\r\n", HeadRules.ObsoleteFold },
        { "obs-fold as the first header line", "GET /a HTTP/1.1\r\n Host: a\r\n\r\n", HeadRules.ObsoleteFold },
        { "obs-fold after a bare LF", "GET /a HTTP/1.1\r\nHost: a\r\nX-A: b\n Content-Length: 1\r\n\r\nx", HeadRules.BareLineFeed },
        { "whitespace before the colon", "GET /a HTTP/1.1\r\nHost: a\r\nContent-Length : 1\r\n\r\nx", HeadRules.WhitespaceBeforeColon },
        { "HTAB before the colon", "GET /a HTTP/1.1\r\nHost: a\r\nX-A\t: b\r\n\r\n", HeadRules.WhitespaceBeforeColon },
        { "a line without a colon", "GET /a HTTP/1.1\r\nHost: a\r\nX-A b\r\n\r\n", HeadRules.NoColon },
        { "duplicate Content-Length", "PUT /a HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", HeadRules.DuplicateLength },
        { "conflicting Content-Length", "PUT /a HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx", HeadRules.DuplicateLength },
        { "Content-Length list", "PUT /a HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 1\r\n\r\nx", HeadRules.InvalidLength },
        { "signed Content-Length", "PUT /a HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n\r\nx", HeadRules.InvalidLength },
        { "negative Content-Length", "PUT /a HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", HeadRules.InvalidLength },
        { "empty Content-Length", "PUT /a HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n", HeadRules.InvalidLength },
        { "Transfer-Encoding with Content-Length", "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", HeadRules.LengthWithTransferEncoding },
        { "Content-Length after Transfer-Encoding", "PUT /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n", HeadRules.LengthWithTransferEncoding },
        { "Transfer-Encoding not chunked", "POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", HeadRules.TransferCodingNotChunked },
        { "Transfer-Encoding chunked then gzip", "POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", HeadRules.TransferCodingNotChunked },
        { "Transfer-Encoding gzip then chunked", "POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", HeadRules.TransferCodingNotChunked },
        { "Transfer-Encoding twice", "POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", HeadRules.TransferCodingNotChunked },
        { "Transfer-Encoding on HTTP/1.0", "POST /a HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", HeadRules.TransferEncodingOnHttp10 },
        { "duplicate Host", "GET /a HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", HeadRules.DuplicateHost },
    };

    /// <summary>Well-formed heads the fast lane leaves to Kestrel's full path.</summary>
    public static TheoryData<string, string> HandedOff => new()
    {
        { "a POST", "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx" },
        { "HTTP/1.0", "GET /a HTTP/1.0\r\nHost: a\r\n\r\n" },
        { "HTTP/2's preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" },
        { "a TLS handshake", "\u0016\u0003\u0001\u0002\u0000" },
        { "a request line that is not three parts", "NONSENSE\r\n\r\n" },
        { "a chunked body", "PUT /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" },
        { "Upgrade", "GET /a HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n" },
        { "Expect", "PUT /a HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n" },
        { "Connection: close", "GET /a HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n" },
        { "a non-ASCII value", "GET /a HTTP/1.1\r\nHost: a\r\nX-A: caf\u00e9\r\n\r\n" },
        { "an absolute-form target", "GET http://a/a HTTP/1.1\r\nHost: a\r\n\r\n" },
        { "an asterisk-form target", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n" },
        { "an escaped path", "GET /a%2Fb HTTP/1.1\r\nHost: a\r\n\r\n" },
        { "a dot segment", "GET /a/../b HTTP/1.1\r\nHost: a\r\n\r\n" },
        { "an empty segment", "GET /a//b HTTP/1.1\r\nHost: a\r\n\r\n" },
        { "no Host", "GET /a HTTP/1.1\r\nX-A: b\r\n\r\n" },
        { "an IPv6 Host", "GET /a HTTP/1.1\r\nHost: [::1]:80\r\n\r\n" },
        { "a Host with other characters", "GET /a HTTP/1.1\r\nHost: a/b\r\n\r\n" },
        { "two X-Forwarded-For lines", "GET /a HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.2.3.4\r\nX-Forwarded-For: 5.6.7.8\r\n\r\n" },
        { "a body over the limit", "PUT /a HTTP/1.1\r\nHost: a\r\nContent-Length: 1025\r\n\r\n" },
        { "a control byte in the target", "GET /a\u0001b HTTP/1.1\r\nHost: a\r\n\r\n" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void A_head_a_strict_parser_refuses_is_rejected_with_the_reason(string name, string text, string reason)
    {
        var (parse, head, _) = Parse(text);

        parse.ShouldBe(HeadParse.Reject, name);
        head.Refusal.ShouldBe(reason, name);
    }

    [Theory]
    [InlineData("POST /a HTTP/1.1")]
    [InlineData("GET /a HTTP/1.0")]
    [InlineData("GET /a%2F HTTP/1.1")]
    [InlineData("GET http://a/a HTTP/1.1")]
    public void A_control_byte_in_a_value_is_rejected_even_in_a_head_that_would_otherwise_be_handed_off(string requestLine)
    {
        var (parse, head, _) = Parse(requestLine + "\r\nHost: a\r\nUpgrade: h2c\r\nX-A: b\0c\r\n\r\n");

        parse.ShouldBe(HeadParse.Reject);
        head.Refusal.ShouldBe(HeadRules.ControlInValue);
    }

    [Theory]
    [MemberData(nameof(HandedOff))]
    public void A_well_formed_head_the_fast_lane_does_not_serve_is_handed_off(string name, string text) =>
        Parse(text).Parse.ShouldBe(HeadParse.HandOff, name);

    [Fact]
    public void A_plain_GET_is_parsed_with_its_parts_and_the_lines_to_forward_without_hop_by_hop_and_gateway_set_ones()
    {
        const string Request = "GET /calculations/1?x=2 HTTP/1.1\r\nHost: example.test:8080\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n"
                            + "TE: trailers\r\nX-Custom:  a b \r\nX-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: h\r\n"
                            + "X-Request-Id: id-1\r\nAccept: */*\r\n\r\n";
        var (parse, head, forwarded) = Parse(Request);
        var data = Bytes(Request);

        parse.ShouldBe(HeadParse.Parsed);
        head.Length.ShouldBe(data.Length);
        Text(data, head.Line).ShouldBe("GET /calculations/1?x=2 HTTP/1.1");
        Text(data, head.Path).ShouldBe("/calculations/1");
        Text(data, head.Host).ShouldBe("example.test:8080");
        Text(data, head.ForwardedFor).ShouldBe("10.0.0.1");
        Text(data, head.RequestId).ShouldBe("id-1");
        head.ContentLength.ShouldBe(0);
        head.IsHead.ShouldBeFalse();
        forwarded.ShouldBe(["X-Custom:  a b \r\n", "Accept: */*\r\n"]);
    }

    [Fact]
    public void A_value_with_HTAB_inside_is_parsed_and_forwarded_as_it_is()
    {
        var (parse, _, forwarded) = Parse("GET /a HTTP/1.1\r\nHost: a\r\nX-Tab:\ta\tb\t\r\n\r\n");

        parse.ShouldBe(HeadParse.Parsed);
        forwarded.ShouldBe(["X-Tab:\ta\tb\t\r\n"]);
    }

    [Fact]
    public void A_Content_Length_body_is_not_part_of_the_head_and_its_length_is_read()
    {
        const string Head = "PUT /a HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n";
        var (parse, head, forwarded) = Parse(Head + "abc");

        parse.ShouldBe(HeadParse.Parsed);
        head.Length.ShouldBe(Head.Length);
        head.ContentLength.ShouldBe(3);
        forwarded.ShouldBe(["Content-Length: 3\r\n"]);
    }

    [Fact]
    public void A_HEAD_request_is_marked_as_one()
    {
        var (parse, head, _) = Parse("HEAD /a HTTP/1.1\r\nHost: a\r\n\r\n");

        parse.ShouldBe(HeadParse.Parsed);
        head.IsHead.ShouldBeTrue();
    }

    [Theory]
    [InlineData("PUT /a HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", true)]
    [InlineData("PUT /a HTTP/1.1\r\nHost: a\r\nidempotency-KEY: k-1\r\nContent-Length: 0\r\n\r\n", false)]
    [InlineData("GET /a HTTP/1.1\r\nHost: a\r\n\r\n", false)]
    [InlineData("DELETE /a HTTP/1.1\r\nHost: a\r\n\r\n", false)]
    public void Only_a_PUT_without_an_Idempotency_Key_is_marked_as_needing_the_gateways_key_and_a_clients_key_is_sent_on(string text, bool needsKey)
    {
        var (parse, head, forwarded) = Parse(text);

        parse.ShouldBe(HeadParse.Parsed);
        head.NeedsRetryKey.ShouldBe(needsKey);
        forwarded.Any(line => line.StartsWith("idempotency-KEY: k-1", StringComparison.Ordinal)).ShouldBe(text.Contains("k-1", StringComparison.Ordinal));
    }

    [Fact]
    public void Pipelined_requests_are_parsed_one_after_the_other_from_where_the_last_one_ended()
    {
        const string First = "GET /a HTTP/1.1\r\nHost: a\r\n\r\n";
        const string Second = "PUT /b HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nok";
        var data = Bytes(First + Second + "GET /c HTTP/1.1\r\n");

        var first = RequestHeadParser.Parse(data, MaxBody, new Range[RequestHeadParser.MaxFields], out var one);
        var rest = data.AsSpan(one.Length).ToArray();
        var second = RequestHeadParser.Parse(rest, MaxBody, new Range[RequestHeadParser.MaxFields], out var two);
        var third = RequestHeadParser.Parse(rest.AsSpan(two.Length + (int)two.ContentLength), MaxBody, new Range[RequestHeadParser.MaxFields], out _);

        first.ShouldBe(HeadParse.Parsed);
        one.Length.ShouldBe(First.Length);
        second.ShouldBe(HeadParse.Parsed);
        Text(rest, two.Path).ShouldBe("/b");
        two.ContentLength.ShouldBe(2);
        third.ShouldBe(HeadParse.NeedMore);
    }

    [Fact]
    public void A_head_split_across_reads_needs_more_until_its_empty_line_arrives()
    {
        const string Text = "GET /a HTTP/1.1\r\nHost: a\r\nX-A: b\r\n\r\n";

        for (var cut = 0; cut < Text.Length; cut++)
        {
            Parse(Text[..cut]).Parse.ShouldBe(HeadParse.NeedMore, $"cut after {cut} bytes");
        }

        Parse(Text).Parse.ShouldBe(HeadParse.Parsed);
    }

    [Fact]
    public void A_bare_LF_is_rejected_as_soon_as_it_arrives_without_waiting_for_an_end_of_head_that_never_comes()
    {
        Parse("GET /a HTTP/1.1\r\nHost: a\nX-A").Parse.ShouldBe(HeadParse.Reject);
        Parse("GET /a HTTP/1.1\nHo").Parse.ShouldBe(HeadParse.Reject);
    }

    [Fact]
    public void An_incomplete_head_over_the_head_limit_is_handed_off_to_Kestrels_limits()
    {
        var text = "GET /a HTTP/1.1\r\nHost: a\r\nX-A: " + new string('b', RequestHeadParser.MaxHeadBytes);

        Parse(text).Parse.ShouldBe(HeadParse.HandOff);
    }

    [Fact]
    public void More_fields_than_Kestrel_allows_are_handed_off_to_its_431()
    {
        var text = "GET /a HTTP/1.1\r\nHost: a\r\n" + string.Concat(Enumerable.Range(0, RequestHeadParser.MaxFields).Select(i => $"X-{i}: v\r\n")) + "\r\n";

        Parse(text).Parse.ShouldBe(HeadParse.HandOff);
    }

    private static (HeadParse Parse, RequestHead Head, string[] Forwarded) Parse(string text)
    {
        var data = Bytes(text);
        var forwarded = new Range[RequestHeadParser.MaxFields];
        var parse = RequestHeadParser.Parse(data, MaxBody, forwarded, out var head);
        var lines = parse == HeadParse.Parsed ? forwarded[..head.ForwardedCount].Select(r => Text(data, r)).ToArray() : [];
        return (parse, head, lines);
    }

    private static byte[] Bytes(string text) => Encoding.Latin1.GetBytes(text);

    private static string Text(byte[] data, Range range) => Encoding.Latin1.GetString(data.AsSpan()[range]);
}

public sealed class HeadParserAllocationTests
{
    [Fact]
    public void Parsing_a_request_head_and_a_response_head_allocates_nothing()
    {
        var request = Encoding.ASCII.GetBytes("GET /calculations/1 HTTP/1.1\r\nHost: a:1\r\nAccept: */*\r\nX-Request-Id: r-1\r\nX-Tab: a\tb\r\n\r\n");
        var response = Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Calc-Load: 1/8\r\nContent-Type: application/json\r\n\r\n{}");
        var forwarded = new Range[RequestHeadParser.MaxFields];
        RequestHeadParser.Parse(request, 1024, forwarded, out _).ShouldBe(HeadParse.Parsed); // warm: static state, JIT
        ResponseHeadParser.Parse(response, false, out _).ShouldBe(HeadParse.Parsed);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            RequestHeadParser.Parse(request, 1024, forwarded, out _);
            ResponseHeadParser.Parse(response, false, out _);
        }

        (GC.GetAllocatedBytesForCurrentThread() - before).ShouldBe(0);
    }
}
