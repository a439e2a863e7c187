using System.Buffers;

namespace Calc.Gateway.Http;

/// <summary>
/// What makes a request head one the gateway refuses with 400 and a closed connection, on both paths: the fast lane's
/// <see cref="FastLane.RequestHeadParser"/> reads the bytes, the full path's <see cref="StrictRequestHeads"/> reads
/// what Kestrel parsed. Each rule closes a way for two parsers (a client's proxy and the gateway, or the gateway and
/// an instance) to frame one message differently (request smuggling, RFC 9112 section 11.2); nginx refuses the same
/// heads. One set of texts for both paths, so a refusal reads the same wherever it happened.
/// </summary>
internal static class HeadRules
{
    public const string BareLineFeed = "A line of the request head ends in a bare LF instead of CRLF (RFC 9112 section 2.2).";
    public const string ObsoleteFold = "A header line starts with whitespace: obsolete line folding is not accepted (RFC 9112 section 5.2).";
    public const string NoColon = "A header line has no colon.";
    public const string WhitespaceBeforeColon = "A header field name is followed by whitespace before its colon (RFC 9112 section 5.1).";
    public const string NameNotToken = "A header field name holds a character that is not allowed in a token (RFC 9110 section 5.1).";
    public const string ControlInValue = "A header field value holds a control character other than HTAB (RFC 9110 section 5.5).";
    public const string DuplicateLength = "Content-Length appears more than once.";
    public const string InvalidLength = "Content-Length is not a non-negative decimal number.";
    public const string LengthWithTransferEncoding = "Transfer-Encoding and Content-Length together (RFC 9112 section 6.3).";
    public const string TransferCodingNotChunked = "Transfer-Encoding must be one field whose only coding is chunked.";
    public const string TransferEncodingOnHttp10 = "Transfer-Encoding on an HTTP/1.0 request (RFC 9112 section 6.1).";
    public const string DuplicateHost = "Host appears more than once.";

    /// <summary>tchar (RFC 9110 section 5.6.2): what a field name is made of.</summary>
    private const string TokenCharacters = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    private static readonly SearchValues<byte> TokenBytes = SearchValues.Create(System.Text.Encoding.ASCII.GetBytes(TokenCharacters));
    private static readonly SearchValues<char> TokenChars = SearchValues.Create(TokenCharacters);
    private static readonly SearchValues<char> ControlChars = SearchValues.Create(
        "\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u000A\u000B\u000C\u000D\u000E\u000F"
        + "\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A\u001B\u001C\u001D\u001E\u001F\u007F");

    public static bool IsToken(ReadOnlySpan<byte> name) => name.Length > 0 && name.IndexOfAnyExcept(TokenBytes) < 0;

    public static bool IsToken(ReadOnlySpan<char> name) => name.Length > 0 && name.IndexOfAnyExcept(TokenChars) < 0;

    /// <summary>A control character (CTL but HTAB: NUL, CR, LF, the rest of C0, DEL) anywhere in a field value.</summary>
    public static bool HasControl(ReadOnlySpan<char> value) => value.IndexOfAny(ControlChars) >= 0;

    /// <summary>
    /// Sorts a field value's bytes in one vectorised pass: <see cref="ValueBytes.Control"/> (a CTL but HTAB),
    /// <see cref="ValueBytes.NonAscii"/> (obs-text, which Kestrel refuses by default, so the fast lane leaves it to
    /// Kestrel), or <see cref="ValueBytes.Plain"/>.
    /// </summary>
    public static ValueBytes Classify(ReadOnlySpan<byte> value)
    {
        var result = ValueBytes.Plain;
        var i = value.IndexOfAnyExceptInRange((byte)0x20, (byte)0x7E);
        while (i >= 0)
        {
            var b = value[i];
            if (b >= 0x80)
            {
                result = ValueBytes.NonAscii;
            }
            else if (b != (byte)'\t')
            {
                return ValueBytes.Control;
            }

            var next = value[(i + 1)..].IndexOfAnyExceptInRange((byte)0x20, (byte)0x7E);
            i = next < 0 ? -1 : i + 1 + next;
        }

        return result;
    }
}

internal enum ValueBytes
{
    Plain,
    NonAscii,
    Control,
}
