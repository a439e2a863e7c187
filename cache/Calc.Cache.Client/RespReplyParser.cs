using System.Buffers;
using System.Buffers.Text;

namespace Calc.Cache.Client;

/// <summary>Parses one RESP2/RESP3 reply. Pure: returns false, consuming nothing, until the whole reply is buffered.</summary>
internal static class RespReplyParser
{
    private const int MaxDepth = 64;

    public static bool TryParse(ref ReadOnlySequence<byte> buffer, out RespValue value)
    {
        var reader = new SequenceReader<byte>(buffer);
        if (!TryRead(ref reader, 0, out value))
        {
            return false;
        }

        buffer = buffer.Slice(reader.Position);
        return true;
    }

    private static bool TryRead(ref SequenceReader<byte> reader, int depth, out RespValue value)
    {
        value = RespValue.Null;
        if (depth > MaxDepth)
        {
            throw new CacheConnectionException("Reply nested too deeply.");
        }

        if (!reader.TryRead(out var prefix) || !reader.TryReadTo(out ReadOnlySpan<byte> line, "\r\n"u8))
        {
            return false;
        }

        switch (prefix)
        {
            case (byte)'+':
                value = new RespValue(RespType.SimpleString, line.ToArray());
                return true;
            case (byte)'-':
                value = new RespValue(RespType.Error, line.ToArray());
                return true;
            case (byte)',':
                value = new RespValue(RespType.Double, line.ToArray());
                return true;
            case (byte)':':
                value = new RespValue(RespType.Integer, integer: ParseLength(line));
                return true;
            case (byte)'#':
                value = new RespValue(RespType.Boolean, integer: line.SequenceEqual("t"u8) ? 1 : 0);
                return true;
            case (byte)'_':
                return true;
            case (byte)'(':
                value = new RespValue(RespType.BulkString, line.ToArray());
                return true;
            case (byte)'$':
            case (byte)'=':
            case (byte)'!':
                {
                    var length = ParseLength(line);
                    if (length < 0)
                    {
                        return true;
                    }

                    if (reader.Remaining < length + 2)
                    {
                        return false;
                    }

                    var data = reader.UnreadSequence.Slice(0, length).ToArray();
                    reader.Advance(length + 2);
                    if (prefix == (byte)'=' && data.Length >= 4 && data[3] == (byte)':')
                    {
                        data = data[4..]; // verbatim string: drop the "txt:" format tag
                    }

                    value = new RespValue(prefix == (byte)'!' ? RespType.Error : RespType.BulkString, data);
                    return true;
                }

            case (byte)'*':
            case (byte)'~':
            case (byte)'>':
            case (byte)'%':
            case (byte)'|':
                {
                    var count = ParseLength(line);
                    if (count < 0)
                    {
                        return true;
                    }

                    if (prefix is (byte)'%' or (byte)'|')
                    {
                        count *= 2;
                    }

                    var elements = new RespValue[count];
                    for (var i = 0; i < count; i++)
                    {
                        if (!TryRead(ref reader, depth + 1, out elements[i]))
                        {
                            return false;
                        }
                    }

                    if (prefix == (byte)'|')
                    {
                        return TryRead(ref reader, depth, out value); // attributes annotate the next value; skip them
                    }

                    value = new RespValue(RespType.Array, elements: elements);
                    return true;
                }

            default:
                throw new CacheConnectionException($"Protocol error: unexpected reply type '{(char)prefix}'.");
        }
    }

    private static long ParseLength(ReadOnlySpan<byte> line) =>
        Utf8Parser.TryParse(line, out long value, out var consumed) && consumed == line.Length
            ? value
            : throw new CacheConnectionException("Protocol error: bad length or integer in reply.");
}
