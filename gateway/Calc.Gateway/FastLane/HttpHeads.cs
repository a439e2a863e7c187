using System.Buffers.Text;
using System.Text;

namespace Calc.Gateway.FastLane;

/// <summary>Byte-level pieces of HTTP/1.1 (RFC 9112) the fast lane reads and writes.</summary>
internal static class HttpHeads
{
    public static ReadOnlySpan<byte> Crlf => "\r\n"u8;

    public static bool NameIs(ReadOnlySpan<byte> name, ReadOnlySpan<byte> lowerCase) =>
        name.Length == lowerCase.Length && Ascii.EqualsIgnoreCase(name, lowerCase);

    /// <summary>Hop-by-hop headers (RFC 9110 section 7.6.1): they describe one connection, never forwarded either way.</summary>
    public static bool IsHopByHop(ReadOnlySpan<byte> name) => name.Length switch
    {
        2 => NameIs(name, "te"u8),
        7 => NameIs(name, "trailer"u8) || NameIs(name, "upgrade"u8),
        10 => NameIs(name, "connection"u8) || NameIs(name, "keep-alive"u8),
        16 => NameIs(name, "proxy-connection"u8),
        17 => NameIs(name, "transfer-encoding"u8),
        18 => NameIs(name, "proxy-authenticate"u8),
        19 => NameIs(name, "proxy-authorization"u8),
        _ => false,
    };

    /// <summary>Splits a header line into name and value (trimmed); false when it is not a well-formed field line.</summary>
    public static bool TrySplit(ReadOnlySpan<byte> line, out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        var colon = line.IndexOf((byte)':');
        name = colon > 0 ? line[..colon] : default;
        value = colon > 0 ? line[(colon + 1)..].Trim(" \t"u8) : default;
        // No whitespace before the colon or at the start (obsolete line folding); a token name.
        return colon > 0 && Http.HeadRules.IsToken(name);
    }

    /// <summary>Visible ASCII only (no spaces, no controls): what the fast lane forwards as-is in a request line or host.</summary>
    public static bool IsVisibleAscii(ReadOnlySpan<byte> value) =>
        value.Length > 0 && !value.ContainsAnyExceptInRange((byte)0x21, (byte)0x7E);

    /// <summary>A non-negative decimal Content-Length.</summary>
    public static bool TryParseLength(ReadOnlySpan<byte> value, out long length) =>
        Utf8Parser.TryParse(value, out length, out var consumed) && consumed == value.Length && length >= 0 && value.Length > 0 && value[0] != (byte)'-' && value[0] != (byte)'+';

    /// <summary>Whether a comma-separated token list (Connection, Transfer-Encoding) holds only <paramref name="allowed"/>.</summary>
    public static bool TokensAreOnly(ReadOnlySpan<byte> list, ReadOnlySpan<byte> allowed)
    {
        foreach (var range in list.Split((byte)','))
        {
            var token = list[range].Trim(" \t"u8);
            if (token.Length > 0 && !Ascii.EqualsIgnoreCase(token, allowed))
            {
                return false;
            }
        }

        return true;
    }

    public static bool ContainsToken(ReadOnlySpan<byte> list, ReadOnlySpan<byte> token)
    {
        foreach (var range in list.Split((byte)','))
        {
            if (Ascii.EqualsIgnoreCase(list[range].Trim(" \t"u8), token))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>
/// Follows a chunked body (RFC 9112 section 7.1) as it passes through unchanged, only to know where it ends: sizes,
/// extensions, data, and the trailer section up to its empty line.
/// </summary>
internal struct ChunkedBodyTracker
{
    private State _state;
    private long _remaining;
    private int _lineLength;
    private bool _sawDigit;

    private enum State
    {
        Size,
        Extension,
        SizeLf,
        Data,
        DataCr,
        DataLf,
        Trailer,
        Done,
        Invalid,
    }

    public readonly bool IsDone => _state == State.Done;

    public readonly bool IsInvalid => _state == State.Invalid;

    /// <summary>How many bytes of <paramref name="data"/> belong to the body (all of them until its end).</summary>
    public int Advance(ReadOnlySpan<byte> data)
    {
        var i = 0;
        while (i < data.Length && _state is not (State.Done or State.Invalid))
        {
            var b = data[i];
            switch (_state)
            {
                case State.Size:
                    var digit = HexValue(b);
                    if (digit >= 0 && _remaining < (1L << 56))
                    {
                        _remaining = (_remaining * 16) + digit;
                        _sawDigit = true;
                    }
                    else if (b == (byte)'\r' && _sawDigit)
                    {
                        _state = State.SizeLf;
                    }
                    else if ((b == (byte)';' || b == (byte)' ' || b == (byte)'\t') && _sawDigit)
                    {
                        _state = State.Extension;
                    }
                    else
                    {
                        _state = State.Invalid;
                    }

                    i++;
                    break;
                case State.Extension:
                    if (b == (byte)'\r')
                    {
                        _state = State.SizeLf;
                    }

                    i++;
                    break;
                case State.SizeLf:
                    if (b != (byte)'\n')
                    {
                        _state = State.Invalid;
                        break;
                    }

                    i++;
                    _sawDigit = false;
                    _lineLength = 0;
                    _state = _remaining == 0 ? State.Trailer : State.Data;
                    break;
                case State.Data:
                    var take = (int)Math.Min(_remaining, data.Length - i);
                    i += take;
                    _remaining -= take;
                    if (_remaining == 0)
                    {
                        _state = State.DataCr;
                    }

                    break;
                case State.DataCr:
                    _state = b == (byte)'\r' ? State.DataLf : State.Invalid;
                    i++;
                    break;
                case State.DataLf:
                    _state = b == (byte)'\n' ? State.Size : State.Invalid;
                    i++;
                    break;
                case State.Trailer:
                    i++;
                    if (b == (byte)'\n')
                    {
                        if (_lineLength == 0)
                        {
                            _state = State.Done;
                        }

                        _lineLength = 0;
                    }
                    else if (b != (byte)'\r')
                    {
                        _lineLength++;
                    }

                    break;
            }
        }

        return i;
    }

    private static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };
}
