using System.Buffers.Text;
using System.Text;
using Calc.Gateway.Http;
using static Calc.Gateway.FastLane.HttpHeads;

namespace Calc.Gateway.FastLane;

/// <summary>How the body of an instance's answer is delimited (RFC 9112 section 6.3).</summary>
internal enum BodyFraming
{
    None,
    Length,
    Chunked,
    UntilClose,
}

/// <summary>An instance's response head as the fast lane relays it.</summary>
internal struct ResponseHead
{
    /// <summary>The head's length, status line to the empty line included.</summary>
    public int Length;

    public int Status;

    public BodyFraming Framing;

    /// <summary>The body's length when <see cref="Framing"/> is <see cref="BodyFraming.Length"/>, else 0.</summary>
    public long ContentLength;

    /// <summary>Whether the instance's connection may carry another request after this answer.</summary>
    public bool KeepAlive;

    /// <summary>The value of the instance's load header (<c>X-Calc-Load</c>); an empty range when absent.</summary>
    public Range Load;

    /// <summary>What is wrong with an answer not relayed (<see cref="HeadParse.Reject"/>); null otherwise.</summary>
    public string? Problem;
}

/// <summary>
/// The fast lane's response head parser, pure like <see cref="RequestHeadParser"/>: an instance's answer is read as
/// strictly as a client's request (CRLF lines, token names, no control bytes in values, no folding, one
/// Content-Length, Transfer-Encoding only as a lone <c>chunked</c> and never with a Content-Length). An answer that
/// is not is <see cref="HeadParse.Reject"/>ed: the fast lane counts it as the instance's failure and the full path
/// sends the request again, so a broken instance cannot frame what the client reads.
/// </summary>
internal static class ResponseHeadParser
{
    public static HeadParse Parse(ReadOnlySpan<byte> data, bool requestWasHead, out ResponseHead head)
    {
        head = default;
        var lineEnd = data.IndexOf((byte)'\n');
        if (lineEnd < 0)
        {
            return data.Length >= RequestHeadParser.MaxHeadBytes ? Fail(ref head, "the response head is too large") : HeadParse.NeedMore;
        }

        var line = data[..lineEnd];
        // Not an HTTP/1.x final response (1xx are never asked for: no Expect, no Upgrade goes out).
        if (line.Length < 13 || line[^1] != (byte)'\r' || !line.StartsWith("HTTP/1."u8) || line[7] is not ((byte)'0' or (byte)'1')
            || line[8] != (byte)' ' || !Utf8Parser.TryParse(line.Slice(9, 3), out int status, out var digits) || digits != 3 || status < 200
            || HeadRules.Classify(line[..^1]) == ValueBytes.Control)
        {
            return Fail(ref head, "the response is not valid HTTP/1.1");
        }

        head.Status = status;
        head.KeepAlive = line[7] == (byte)'1';
        var chunked = false;
        var sawLength = false;
        var pos = lineEnd + 1;
        while (true)
        {
            var rest = data[pos..];
            var end = rest.IndexOf((byte)'\n');
            if (end < 0)
            {
                return data.Length >= RequestHeadParser.MaxHeadBytes ? Fail(ref head, "the response head is too large") : HeadParse.NeedMore;
            }

            if (end == 0 || rest[end - 1] != (byte)'\r')
            {
                return Fail(ref head, "the response head has a bare LF");
            }

            var fieldStart = pos;
            var field = rest[..(end - 1)];
            pos += end + 1;
            if (field.IsEmpty)
            {
                break;
            }

            var colon = field.IndexOf((byte)':');
            if (colon <= 0 || !HeadRules.IsToken(field[..colon]) || HeadRules.Classify(field[(colon + 1)..]) == ValueBytes.Control)
            {
                return Fail(ref head, "the response has a malformed header line");
            }

            var name = field[..colon];
            var value = field[(colon + 1)..].Trim(" \t"u8);
            if (NameIs(name, "content-length"u8))
            {
                if (sawLength || !TryParseLength(value, out head.ContentLength))
                {
                    return Fail(ref head, "the response has an invalid Content-Length");
                }

                sawLength = true;
            }
            else if (NameIs(name, "transfer-encoding"u8))
            {
                if (chunked || !Ascii.EqualsIgnoreCase(value, "chunked"u8))
                {
                    return Fail(ref head, "the response has a Transfer-Encoding other than chunked");
                }

                chunked = true;
            }
            else if (NameIs(name, "connection"u8) && ContainsToken(value, "close"u8))
            {
                head.KeepAlive = false;
            }
            else if (NameIs(name, "x-calc-load"u8))
            {
                var start = fieldStart + colon + 1 + (field.Length - colon - 1 - field[(colon + 1)..].TrimStart(" \t"u8).Length);
                head.Load = new Range(start, start + value.Length);
            }
        }

        if (chunked && sawLength)
        {
            return Fail(ref head, "the response has both Transfer-Encoding and Content-Length");
        }

        head.Framing = requestWasHead || status is 204 or 304 ? BodyFraming.None
            : chunked ? BodyFraming.Chunked
            : sawLength ? BodyFraming.Length
            : BodyFraming.UntilClose;
        if (head.Framing != BodyFraming.Length)
        {
            head.ContentLength = 0;
        }

        if (head.Framing == BodyFraming.UntilClose)
        {
            head.KeepAlive = false;
        }

        head.Length = pos;
        return HeadParse.Parsed;
    }

    private static HeadParse Fail(ref ResponseHead head, string problem)
    {
        head.Problem = problem;
        return HeadParse.Reject;
    }
}
