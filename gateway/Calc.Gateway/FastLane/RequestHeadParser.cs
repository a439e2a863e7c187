using System.Text;
using Calc.Gateway.Http;
using static Calc.Gateway.FastLane.HttpHeads;

namespace Calc.Gateway.FastLane;

/// <summary>What a head parser made of the bytes so far.</summary>
internal enum HeadParse
{
    /// <summary>The head is not whole yet.</summary>
    NeedMore,

    /// <summary>A head the fast lane serves; the parsed head says where its parts are.</summary>
    Parsed,

    /// <summary>A well-formed head the fast lane leaves to Kestrel (the full path), unread.</summary>
    HandOff,

    /// <summary>A head refused by <see cref="HeadRules"/>: 400 and the connection closed, on both paths.</summary>
    Reject,
}

/// <summary>A request head as the fast lane forwards it: where its parts are in the bytes it was parsed from.</summary>
internal struct RequestHead
{
    /// <summary>The head's length, start line to the empty line (CRLF CRLF) included.</summary>
    public int Length;

    /// <summary>The request line without its CRLF.</summary>
    public Range Line;

    public Range Path;

    public bool IsHead;

    /// <summary>A PUT without an <c>Idempotency-Key</c> field: the gateway attaches one (PUT term is an append).</summary>
    public bool NeedsRetryKey;

    public long ContentLength;

    /// <summary>The values of Host, X-Forwarded-For and X-Request-Id, trimmed; empty ranges when absent.</summary>
    public Range Host;

    public Range ForwardedFor;

    public Range RequestId;

    /// <summary>The value of the one <c>traceparent</c> line (not forwarded as is: the gateway writes its own); empty when absent or repeated.</summary>
    public Range TraceParent;

    /// <summary>How many of the field lines (each with its CRLF) the caller's span holds: the ones sent on as they are.</summary>
    public int ForwardedCount;

    /// <summary>Why a head was rejected (one of <see cref="HeadRules"/>' texts); null otherwise.</summary>
    public string? Refusal;
}

/// <summary>
/// The fast lane's request head parser (RFC 9112), pure: bytes in, a <see cref="HeadParse"/> and a
/// <see cref="RequestHead"/> out, nothing allocated. Every head is read strictly: lines end in CRLF, field names are
/// tokens right before their colon, values hold no control byte but HTAB, no line is folded, Content-Length is one
/// decimal, Transfer-Encoding is one <c>chunked</c> without a Content-Length and not on HTTP/1.0. A head breaking any
/// of these is <see cref="HeadParse.Reject"/>ed whatever else it is, so the fast lane and the full path
/// (<see cref="StrictRequestHeads"/>, with Kestrel told to refuse bare LFs) refuse the same heads. Well-formed heads
/// the fast lane does not serve (not HTTP/1.1, a method that is not idempotent, a path Kestrel would rewrite, a chunked
/// body, upgrades, Expect, Connection other than keep-alive, non-ASCII values, a body over the limit) are handed off.
/// </summary>
internal static class RequestHeadParser
{
    /// <summary>A request head larger than this goes to Kestrel (which has its own limits).</summary>
    public const int MaxHeadBytes = 16 * 1024;

    /// <summary>Kestrel's <c>MaxRequestLineSize</c>: a longer line goes to Kestrel, which answers 414.</summary>
    public const int MaxRequestLineBytes = 8 * 1024;

    /// <summary>Kestrel's <c>MaxRequestHeaderCount</c>: more fields go to Kestrel, which answers 431.</summary>
    public const int MaxFields = 100;

    /// <summary>
    /// Parses the head at the start of <paramref name="data"/>. <paramref name="forwarded"/> (at least
    /// <see cref="MaxFields"/> long) receives the ranges of the field lines to send on unchanged: all but hop-by-hop
    /// ones and the ones the gateway sets itself (Host, X-Forwarded-*, X-Request-Id, traceparent).
    /// </summary>
    public static HeadParse Parse(ReadOnlySpan<byte> data, long maxBodyBytes, Span<Range> forwarded, out RequestHead head)
    {
        head = default;
        if (data.IsEmpty)
        {
            return HeadParse.NeedMore;
        }

        if (data[0] == 0x16)
        {
            return HeadParse.HandOff; // a TLS handshake: Kestrel's HTTPS endpoint, not plain HTTP/1.1
        }

        var lineEnd = data.IndexOf((byte)'\n');
        if (lineEnd < 0)
        {
            return data.Length > MaxRequestLineBytes ? HeadParse.HandOff : HeadParse.NeedMore;
        }

        if (lineEnd == 0 || data[lineEnd - 1] != (byte)'\r')
        {
            return Refuse(ref head, HeadRules.BareLineFeed);
        }

        // The request line: anything unusual is Kestrel's to judge (it is strict there: 400, or 414 when too long).
        var line = data[..(lineEnd - 1)];
        var space1 = line.IndexOf((byte)' ');
        var space2 = line.LastIndexOf((byte)' ');
        if (space1 <= 0 || space2 <= space1 + 1 || line.Length > MaxRequestLineBytes || !IsVisibleAscii(line[..space1])
            || !IsVisibleAscii(line[(space1 + 1)..space2]))
        {
            return HeadParse.HandOff;
        }

        var version = line[(space2 + 1)..];
        var isHttp11 = version.SequenceEqual("HTTP/1.1"u8);
        if (!isHttp11 && !version.SequenceEqual("HTTP/1.0"u8))
        {
            return HeadParse.HandOff; // HTTP/2's preface, or no HTTP/1.x at all
        }

        var handOff = false;
        var sawLength = false;
        var sawTransferEncoding = false;
        var sawIdempotencyKey = false;
        var fieldCount = 0;
        var forwardedCount = 0;
        Range host = default, forwardedFor = default, requestId = default, traceParent = default;
        var traceParents = 0;
        var pos = lineEnd + 1;
        while (true)
        {
            var rest = data[pos..];
            var end = rest.IndexOf((byte)'\n');
            if (end < 0)
            {
                return data.Length > MaxHeadBytes ? HeadParse.HandOff : HeadParse.NeedMore;
            }

            if (end == 0 || rest[end - 1] != (byte)'\r')
            {
                return Refuse(ref head, HeadRules.BareLineFeed);
            }

            var fieldStart = pos;
            var field = rest[..(end - 1)];
            pos += end + 1;
            if (field.IsEmpty)
            {
                break; // the empty line: the end of the head
            }

            if (field[0] is (byte)' ' or (byte)'\t')
            {
                return Refuse(ref head, HeadRules.ObsoleteFold);
            }

            if (++fieldCount > MaxFields || pos > MaxHeadBytes)
            {
                return HeadParse.HandOff;
            }

            var colon = field.IndexOf((byte)':');
            if (colon < 0)
            {
                return Refuse(ref head, HeadRules.NoColon);
            }

            var name = field[..colon];
            if (!HeadRules.IsToken(name))
            {
                return Refuse(ref head, name.Length > 0 && name[^1] is (byte)' ' or (byte)'\t' ? HeadRules.WhitespaceBeforeColon : HeadRules.NameNotToken);
            }

            var rawValue = field[(colon + 1)..];
            switch (HeadRules.Classify(rawValue))
            {
                case ValueBytes.Control:
                    return Refuse(ref head, HeadRules.ControlInValue);
                case ValueBytes.NonAscii:
                    handOff = true;
                    break;
            }

            var value = rawValue.Trim(" \t"u8);
            var valueStart = fieldStart + colon + 1 + (rawValue.Length - rawValue.TrimStart(" \t"u8).Length);
            var valueRange = new Range(valueStart, valueStart + value.Length);
            switch (name.Length)
            {
                case 4 when NameIs(name, "host"u8):
                    if (!host.Equals(default(Range)))
                    {
                        return Refuse(ref head, HeadRules.DuplicateHost);
                    }

                    host = valueRange;
                    handOff |= !IsPlainHost(value);
                    continue;
                case 14 when NameIs(name, "content-length"u8):
                    if (sawLength)
                    {
                        return Refuse(ref head, HeadRules.DuplicateLength);
                    }

                    if (!TryParseLength(value, out head.ContentLength))
                    {
                        return Refuse(ref head, HeadRules.InvalidLength);
                    }

                    sawLength = true;
                    break;
                case 17 when NameIs(name, "transfer-encoding"u8):
                    if (sawTransferEncoding || !Ascii.EqualsIgnoreCase(value, "chunked"u8))
                    {
                        return Refuse(ref head, HeadRules.TransferCodingNotChunked);
                    }

                    sawTransferEncoding = true;
                    continue;
                case 15 when NameIs(name, "x-forwarded-for"u8):
                    handOff |= !forwardedFor.Equals(default(Range)); // several lines: the full path joins them
                    forwardedFor = valueRange;
                    continue;
                case 15 when NameIs(name, "idempotency-key"u8):
                    sawIdempotencyKey = true;
                    break; // sent on as it is
                case 12 when NameIs(name, "x-request-id"u8):
                    requestId = valueRange;
                    continue;
                case 11 when NameIs(name, "traceparent"u8):
                    traceParent = valueRange;
                    traceParents++;
                    continue;
                case 16 when NameIs(name, "x-forwarded-host"u8):
                case 17 when NameIs(name, "x-forwarded-proto"u8):
                    continue; // set by the gateway
                case 6 when NameIs(name, "expect"u8):
                case 7 when NameIs(name, "upgrade"u8):
                    handOff = true; // 100-continue and upgrades are Kestrel's
                    continue;
                case 10 when NameIs(name, "connection"u8):
                    handOff |= !TokensAreOnly(value, "keep-alive"u8); // Connection: close, or headers it names
                    continue;
            }

            if (!IsHopByHop(name))
            {
                forwarded[forwardedCount++] = new Range(fieldStart, pos); // with its CRLF
            }
        }

        if (sawTransferEncoding && sawLength)
        {
            return Refuse(ref head, HeadRules.LengthWithTransferEncoding);
        }

        if (sawTransferEncoding && !isHttp11)
        {
            return Refuse(ref head, HeadRules.TransferEncodingOnHttp10);
        }

        var method = line[..space1];
        var target = line[(space1 + 1)..space2];
        var query = target.IndexOf((byte)'?');
        var path = query < 0 ? target : target[..query];
        // Origin form only, and a path Kestrel would not rewrite (no escapes, dot segments or empty segments).
        if (handOff || !isHttp11 || sawTransferEncoding || host.Equals(default(Range)) || head.ContentLength > maxBodyBytes
            || !IsForwardable(method, out head.IsHead) || target[0] != (byte)'/' || path.IndexOfAny("%\\"u8) >= 0
            || path.IndexOf("//"u8) >= 0 || path.IndexOf("/."u8) >= 0)
        {
            return HeadParse.HandOff; // no Host is Kestrel's 400; a large body its 413 or a streamed forward
        }

        head.Length = pos;
        head.NeedsRetryKey = !sawIdempotencyKey && method.SequenceEqual("PUT"u8);
        head.Line = ..line.Length;
        head.Path = new Range(space1 + 1, space1 + 1 + path.Length);
        head.Host = host;
        head.ForwardedFor = forwardedFor;
        head.RequestId = requestId;
        head.TraceParent = traceParents == 1 ? traceParent : default; // several: none is valid (W3C trace context)
        head.ForwardedCount = forwardedCount;
        return HeadParse.Parsed;
    }

    private static HeadParse Refuse(ref RequestHead head, string reason)
    {
        head.Refusal = reason;
        return HeadParse.Reject;
    }

    private static bool IsForwardable(ReadOnlySpan<byte> method, out bool isHead)
    {
        isHead = method.SequenceEqual("HEAD"u8);
        // Idempotent methods only: whatever fails on the way can be sent again through the full path (a PUT with the
        // Idempotency-Key the exchange attached when the client sent none: PUT term is an append).
        return isHead || method.SequenceEqual("GET"u8) || method.SequenceEqual("PUT"u8)
               || method.SequenceEqual("DELETE"u8) || method.SequenceEqual("OPTIONS"u8);
    }

    /// <summary>
    /// A host name or IPv4 address with an optional port: the hosts the fast lane forwards in X-Forwarded-Host as
    /// they are. Anything else (IPv6 literals, other characters) Kestrel checks and answers.
    /// </summary>
    private static bool IsPlainHost(ReadOnlySpan<byte> host)
    {
        var colon = host.IndexOf((byte)':');
        var name = colon < 0 ? host : host[..colon];
        var port = colon < 0 ? default : host[(colon + 1)..];
        return name.Length > 0 && name.IndexOfAnyExcept(HostBytes) < 0
               && (colon < 0 || (port.Length is > 0 and <= 5 && !port.ContainsAnyExceptInRange((byte)'0', (byte)'9')));
    }

    private static readonly System.Buffers.SearchValues<byte> HostBytes =
        System.Buffers.SearchValues.Create("-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);
}
