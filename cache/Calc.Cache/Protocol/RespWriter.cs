using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace Calc.Cache.Protocol;

/// <summary>
/// Writes RESP2/RESP3 replies straight into the connection's pipe. <see cref="Protocol"/> decides how nulls, maps and
/// doubles look on the wire, so handlers write one shape and the client gets the one it negotiated with HELLO.
/// </summary>
public sealed class RespWriter
{
    private readonly IBufferWriter<byte> _output;

    /// <summary>Creates a writer over <paramref name="output"/> (the connection's PipeWriter).</summary>
    public RespWriter(IBufferWriter<byte> output) => _output = output;

    /// <summary>2 or 3, as chosen by HELLO.</summary>
    public int Protocol { get; set; } = 2;

    /// <summary>Bytes written since the last <see cref="MarkFlushed"/>; the connection flushes early past a bound.</summary>
    public long Unflushed { get; private set; }

    /// <summary>
    /// The most reply bytes one batch may buffer (client-reply-max-bytes). A batch stops once 64 KB wait and the next
    /// runs only after they went out, so this bounds one command's reply: MGET of one big key a million times fails
    /// with <see cref="ReplyTooLargeException"/> (the connection is closed, as Redis does at its output buffer limit)
    /// instead of growing server memory without bound.
    /// </summary>
    public long ReplyLimit { get; set; } = long.MaxValue;

    /// <summary>Resets <see cref="Unflushed"/> after the connection flushed the pipe.</summary>
    public void MarkFlushed() => Unflushed = 0;

    /// <summary>True once an error reply was written since <see cref="ClearErrorFlag"/> (the AOF logs only successes).</summary>
    public bool ErrorWritten { get; private set; }

    /// <summary>Starts watching for an error reply.</summary>
    public void ClearErrorFlag() => ErrorWritten = false;

    /// <summary>Writes bytes already in wire form (the u8 reply constants).</summary>
    public void WriteRaw(ReadOnlySpan<byte> data)
    {
        if (data.Length > 0 && data[0] == (byte)'-')
        {
            ErrorWritten = true;
        }

        EnsureRoom(data.Length);
        _output.Write(data);
        Unflushed += data.Length;
    }

    /// <summary><c>+OK</c>.</summary>
    public void WriteOk() => WriteRaw("+OK\r\n"u8);

    /// <summary>A simple string (<c>+text</c>); the text must not hold CR or LF.</summary>
    public void WriteSimpleString(ReadOnlySpan<byte> text) => WritePrefixed((byte)'+', text);

    /// <summary>An error line; <paramref name="message"/> starts with its code (ERR, WRONGTYPE, ...).</summary>
    public void WriteError(string message)
    {
        // Error lines cannot carry CR/LF: user input echoed in an error must not break the framing.
        var clean = message.Replace('\r', ' ').Replace('\n', ' ');
        var bytes = Encoding.UTF8.GetBytes(clean);
        ErrorWritten = true;
        WritePrefixed((byte)'-', bytes);
    }

    /// <summary>An integer reply.</summary>
    public void WriteInteger(long value)
    {
        var span = _output.GetSpan(24);
        span[0] = (byte)':';
        Utf8Formatter.TryFormat(value, span[1..], out var written);
        span[written + 1] = (byte)'\r';
        span[written + 2] = (byte)'\n';
        Advance(written + 3);
    }

    /// <summary>A bulk string.</summary>
    public void WriteBulk(ReadOnlySpan<byte> value)
    {
        if (value.Length <= 4096)
        {
            var span = _output.GetSpan(value.Length + 16);
            span[0] = (byte)'$';
            Utf8Formatter.TryFormat(value.Length, span[1..], out var written);
            var pos = written + 1;
            span[pos++] = (byte)'\r';
            span[pos++] = (byte)'\n';
            value.CopyTo(span[pos..]);
            pos += value.Length;
            span[pos++] = (byte)'\r';
            span[pos++] = (byte)'\n';
            Advance(pos);
            return;
        }

        WriteLength((byte)'$', value.Length);
        WriteRaw(value);
        WriteRaw("\r\n"u8);
    }

    /// <summary>A bulk string from text.</summary>
    public void WriteBulk(string value) => WriteBulk(Encoding.UTF8.GetBytes(value));

    /// <summary>A bulk string holding the decimal form of <paramref name="value"/>.</summary>
    public void WriteBulk(long value)
    {
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(value, digits, out var written);
        WriteBulk(digits[..written]);
    }

    /// <summary>The null bulk string (<c>$-1</c> in RESP2, <c>_</c> in RESP3).</summary>
    public void WriteNull() => WriteRaw(Protocol == 3 ? "_\r\n"u8 : "$-1\r\n"u8);

    /// <summary>The null array (<c>*-1</c> in RESP2, <c>_</c> in RESP3).</summary>
    public void WriteNullArray() => WriteRaw(Protocol == 3 ? "_\r\n"u8 : "*-1\r\n"u8);

    /// <summary>An array header of <paramref name="count"/> elements.</summary>
    public void WriteArrayHeader(int count) => WriteLength((byte)'*', count);

    /// <summary>A set header (<c>~n</c> in RESP3; an array in RESP2): SMEMBERS, SINTER, ...</summary>
    public void WriteSetHeader(int count) => WriteLength(Protocol == 3 ? (byte)'~' : (byte)'*', count);

    /// <summary>A push header (<c>&gt;n</c> in RESP3, for pub/sub messages; an array in RESP2).</summary>
    public void WritePushHeader(int count) => WriteLength(Protocol == 3 ? (byte)'>' : (byte)'*', count);

    /// <summary>A map header (<c>%n</c> in RESP3; a flat array of 2n elements in RESP2).</summary>
    public void WriteMapHeader(int pairs)
    {
        if (Protocol == 3)
        {
            WriteLength((byte)'%', pairs);
        }
        else
        {
            WriteLength((byte)'*', pairs * 2);
        }
    }

    /// <summary>A double (<c>,x</c> in RESP3; a bulk string in RESP2).</summary>
    public void WriteDouble(double value)
    {
        var text = FormatDouble(value);
        if (Protocol == 3)
        {
            WritePrefixed((byte)',', Encoding.ASCII.GetBytes(text));
        }
        else
        {
            WriteBulk(text);
        }
    }

    /// <summary>Formats like Redis's INCRBYFLOAT: plain decimal digits, no exponent, no trailing zeros.</summary>
    public static string FormatDouble(double value)
    {
        if (double.IsPositiveInfinity(value))
        {
            return "inf";
        }

        if (double.IsNegativeInfinity(value))
        {
            return "-inf";
        }

        var text = value.ToString("R", CultureInfo.InvariantCulture);
        if (text.Contains('E', StringComparison.Ordinal))
        {
            text = Math.Abs(value) < 1e28
                ? ((decimal)value).ToString(CultureInfo.InvariantCulture)
                : value.ToString("F0", CultureInfo.InvariantCulture);
        }

        return text;
    }

    private void WritePrefixed(byte prefix, ReadOnlySpan<byte> text)
    {
        EnsureRoom(text.Length + 3);
        var span = _output.GetSpan(text.Length + 3);
        span[0] = prefix;
        text.CopyTo(span[1..]);
        span[text.Length + 1] = (byte)'\r';
        span[text.Length + 2] = (byte)'\n';
        Advance(text.Length + 3);
    }

    private void WriteLength(byte prefix, long length)
    {
        var span = _output.GetSpan(24);
        span[0] = prefix;
        Utf8Formatter.TryFormat(length, span[1..], out var written);
        span[written + 1] = (byte)'\r';
        span[written + 2] = (byte)'\n';
        Advance(written + 3);
    }

    private void Advance(int count)
    {
        _output.Advance(count);
        Unflushed += count;
        EnsureRoom(0); // small writes (≤ 4 KB) are checked after the fact
    }

    private void EnsureRoom(long count)
    {
        if (Unflushed + count > ReplyLimit)
        {
            throw new ReplyTooLargeException(ReplyLimit);
        }
    }
}

/// <summary>A command's reply would pass client-reply-max-bytes; the connection loop closes the connection.</summary>
public sealed class ReplyTooLargeException(long limit)
    : Exception($"reply exceeds client-reply-max-bytes ({limit} bytes); the connection is closed")
{
}
