using System.Buffers;
using System.Buffers.Text;

namespace Calc.Cache.Protocol;

/// <summary>
/// RESP request parser: multibulk frames (<c>*2\r\n$3\r\nGET\r\n$1\r\nk\r\n</c>) and inline commands (<c>GET k\r\n</c>),
/// as redis-server accepts them. Pure: no I/O, no state besides the caller's buffer and request.
/// </summary>
public static class RespParser
{
    /// <summary>
    /// Parses one command from the start of <paramref name="buffer"/>. On <see cref="RespParseStatus.Complete"/>,
    /// <paramref name="buffer"/> is advanced past it and <paramref name="request"/> holds its arguments; on
    /// <see cref="RespParseStatus.Incomplete"/> nothing is consumed (empty frames like <c>*0\r\n</c> may be skipped);
    /// on <see cref="RespParseStatus.Error"/>, <paramref name="error"/> is the Redis error line to send.
    /// </summary>
    public static RespParseStatus TryParse(ref ReadOnlySequence<byte> buffer, RespRequest request, RespLimits limits, out string? error)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(limits);
        error = null;
        if (buffer.IsEmpty)
        {
            return RespParseStatus.Incomplete; // the usual end of a batch: nothing left to look at
        }

        if (buffer.IsSingleSegment && TryParseSimpleMultiBulk(buffer.FirstSpan, request, limits, out var consumed))
        {
            buffer = buffer.Slice(consumed);
            return RespParseStatus.Complete;
        }

        while (true)
        {
            request.Reset();
            var reader = new SequenceReader<byte>(buffer);
            if (!reader.TryPeek(out var first))
            {
                return RespParseStatus.Incomplete;
            }

            var status = first == (byte)'*'
                ? ParseMultiBulk(ref reader, request, limits, out error)
                : ParseInline(ref reader, request, limits, out error);
            if (status == RespParseStatus.Complete)
            {
                buffer = buffer.Slice(reader.Position);
                if (request.Count == 0)
                {
                    continue; // empty frame or blank line: Redis skips it silently
                }
            }

            return status;
        }
    }

    /// <summary>
    /// The fast path for what clients send nearly always: a whole multibulk frame in one span, lengths in plain digits,
    /// within the limits. Anything else (incomplete, inline, empty, signs, an error) returns false and goes the
    /// general way, which then decides exactly as if this path did not exist.
    /// </summary>
    private static bool TryParseSimpleMultiBulk(ReadOnlySpan<byte> span, RespRequest request, RespLimits limits, out int consumed)
    {
        consumed = 0;
        if (span.Length < 4 || span[0] != (byte)'*' || limits.MaxInlineLength < 20)
        {
            return false;
        }

        var pos = 1;
        if (!TryReadDigits(span, ref pos, out var count) || count == 0 || count > limits.MaxArguments)
        {
            return false;
        }

        request.Reset();
        long declared = 0;
        for (var i = 0; i < count; i++)
        {
            if (pos >= span.Length || span[pos] != (byte)'$')
            {
                return false;
            }

            pos++;
            if (!TryReadDigits(span, ref pos, out var length) || length > limits.MaxBulkLength)
            {
                return false;
            }

            declared += length;
            if (declared > limits.MaxRequestBytes || span.Length - pos < length + 2)
            {
                return false;
            }

            var end = pos + (int)length;
            if (span[end] != (byte)'\r' || span[end + 1] != (byte)'\n')
            {
                return false;
            }

            request.Add(span[pos..end]);
            pos = end + 2;
        }

        consumed = pos;
        return true;
    }

    /// <summary>1 to 18 plain digits followed by CRLF (so the header line is within any limit of 20 or more); <paramref name="pos"/> ends past the CRLF.</summary>
    private static bool TryReadDigits(ReadOnlySpan<byte> span, ref int pos, out long value)
    {
        value = 0;
        var start = pos;
        while (pos < span.Length)
        {
            var digit = (uint)(span[pos] - '0');
            if (digit > 9)
            {
                break;
            }

            value = (value * 10) + digit;
            pos++;
        }

        var digits = pos - start;
        if (digits is 0 or > 18 || span.Length - pos < 2 || span[pos] != (byte)'\r' || span[pos + 1] != (byte)'\n')
        {
            return false;
        }

        pos += 2;
        return true;
    }

    private static RespParseStatus ParseMultiBulk(ref SequenceReader<byte> reader, RespRequest request, RespLimits limits, out string? error)
    {
        error = null;
        if (!TryReadHeader(ref reader, limits, out var line, ref error, "ERR Protocol error: too big mbulk count string"))
        {
            return error is null ? RespParseStatus.Incomplete : RespParseStatus.Error;
        }

        if (!TryParseInteger(line[1..], out var count) || count > limits.MaxArguments)
        {
            error = "ERR Protocol error: invalid multibulk length";
            return RespParseStatus.Error;
        }

        long declared = 0;
        for (var i = 0; i < count; i++)
        {
            if (!reader.TryPeek(out var marker))
            {
                return RespParseStatus.Incomplete;
            }

            if (marker != (byte)'$')
            {
                error = $"ERR Protocol error: expected '$', got '{Printable(marker)}'";
                return RespParseStatus.Error;
            }

            if (!TryReadHeader(ref reader, limits, out line, ref error, "ERR Protocol error: too big bulk count string"))
            {
                return error is null ? RespParseStatus.Incomplete : RespParseStatus.Error;
            }

            if (!TryParseInteger(line[1..], out var length) || length < 0 || length > limits.MaxBulkLength)
            {
                error = "ERR Protocol error: invalid bulk length";
                return RespParseStatus.Error;
            }

            declared += length;
            if (declared > limits.MaxRequestBytes)
            {
                error = "ERR Protocol error: request exceeds the query buffer limit";
                return RespParseStatus.Error;
            }

            // Check before copying: a large value arriving in pieces is re-examined, never copied twice.
            if (reader.Remaining < length + 2)
            {
                return RespParseStatus.Incomplete;
            }

            var data = reader.UnreadSequence.Slice(0, length);
            reader.Advance(length);
            if (!reader.IsNext("\r\n"u8, advancePast: true))
            {
                error = "ERR Protocol error: bulk string not terminated by CRLF";
                return RespParseStatus.Error;
            }

            request.Add(data);
        }

        return RespParseStatus.Complete;
    }

    private static bool TryReadHeader(ref SequenceReader<byte> reader, RespLimits limits, out ReadOnlySpan<byte> line, ref string? error, string tooBig)
    {
        if (reader.TryReadTo(out line, "\r\n"u8, advancePastDelimiter: true))
        {
            if (line.Length <= limits.MaxInlineLength)
            {
                return true;
            }
        }
        else if (reader.Remaining <= limits.MaxInlineLength)
        {
            return false;
        }

        error = tooBig;
        return false;
    }

    private static bool TryParseInteger(ReadOnlySpan<byte> text, out long value) =>
        Utf8Parser.TryParse(text, out value, out var consumed) && consumed == text.Length && text.Length > 0;

    private static RespParseStatus ParseInline(ref SequenceReader<byte> reader, RespRequest request, RespLimits limits, out string? error)
    {
        error = null;
        if (!reader.TryReadTo(out ReadOnlySpan<byte> line, (byte)'\n', advancePastDelimiter: true))
        {
            if (reader.Remaining > limits.MaxInlineLength)
            {
                error = "ERR Protocol error: too big inline request";
                return RespParseStatus.Error;
            }

            return RespParseStatus.Incomplete;
        }

        if (line.Length > limits.MaxInlineLength)
        {
            error = "ERR Protocol error: too big inline request";
            return RespParseStatus.Error;
        }

        if (line.Length > 0 && line[^1] == (byte)'\r')
        {
            line = line[..^1];
        }

        if (!SplitInline(line, request))
        {
            error = "ERR Protocol error: unbalanced quotes in request";
            return RespParseStatus.Error;
        }

        return RespParseStatus.Complete;
    }

    /// <summary>Splits an inline command the way Redis's sdssplitargs does (quotes and escapes).</summary>
    internal static bool SplitInline(ReadOnlySpan<byte> line, RespRequest request)
    {
        Span<byte> small = stackalloc byte[256];
        var scratch = line.Length <= small.Length ? small : new byte[line.Length];
        var i = 0;
        while (true)
        {
            while (i < line.Length && IsSpace(line[i]))
            {
                i++;
            }

            if (i == line.Length)
            {
                return true;
            }

            var length = 0;
            if (line[i] == (byte)'"')
            {
                i++;
                while (true)
                {
                    if (i >= line.Length)
                    {
                        return false;
                    }

                    var c = line[i];
                    if (c == (byte)'\\' && i + 3 < line.Length && line[i + 1] == (byte)'x' && IsHex(line[i + 2]) && IsHex(line[i + 3]))
                    {
                        scratch[length++] = (byte)((HexValue(line[i + 2]) << 4) | HexValue(line[i + 3]));
                        i += 4;
                    }
                    else if (c == (byte)'\\' && i + 1 < line.Length)
                    {
                        scratch[length++] = line[i + 1] switch
                        {
                            (byte)'n' => (byte)'\n',
                            (byte)'r' => (byte)'\r',
                            (byte)'t' => (byte)'\t',
                            (byte)'b' => (byte)'\b',
                            (byte)'a' => (byte)'\a',
                            var other => other,
                        };
                        i += 2;
                    }
                    else if (c == (byte)'"')
                    {
                        i++;
                        if (i < line.Length && !IsSpace(line[i]))
                        {
                            return false; // closing quote must be followed by a space or the end
                        }

                        break;
                    }
                    else
                    {
                        scratch[length++] = c;
                        i++;
                    }
                }
            }
            else if (line[i] == (byte)'\'')
            {
                i++;
                while (true)
                {
                    if (i >= line.Length)
                    {
                        return false;
                    }

                    var c = line[i];
                    if (c == (byte)'\\' && i + 1 < line.Length && line[i + 1] == (byte)'\'')
                    {
                        scratch[length++] = (byte)'\'';
                        i += 2;
                    }
                    else if (c == (byte)'\'')
                    {
                        i++;
                        if (i < line.Length && !IsSpace(line[i]))
                        {
                            return false;
                        }

                        break;
                    }
                    else
                    {
                        scratch[length++] = c;
                        i++;
                    }
                }
            }
            else
            {
                while (i < line.Length && !IsSpace(line[i]))
                {
                    scratch[length++] = line[i++];
                }
            }

            request.Add(scratch[..length]);
        }
    }

    private static bool IsSpace(byte c) => c is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)'\v' or (byte)'\f';

    private static bool IsHex(byte c) => char.IsAsciiHexDigit((char)c);

    private static int HexValue(byte c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;

    private static char Printable(byte c) => c is >= 32 and < 127 ? (char)c : '?';
}
