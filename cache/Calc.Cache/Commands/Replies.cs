namespace Calc.Cache.Commands;

/// <summary>Constant replies in wire form, with Redis 7's exact error texts.</summary>
internal static class Replies
{
    public static ReadOnlySpan<byte> Ok => "+OK\r\n"u8;
    public static ReadOnlySpan<byte> Pong => "+PONG\r\n"u8;
    public static ReadOnlySpan<byte> Zero => ":0\r\n"u8;
    public static ReadOnlySpan<byte> One => ":1\r\n"u8;
    public static ReadOnlySpan<byte> MinusOne => ":-1\r\n"u8;
    public static ReadOnlySpan<byte> MinusTwo => ":-2\r\n"u8;
    public static ReadOnlySpan<byte> EmptyArray => "*0\r\n"u8;
    public static ReadOnlySpan<byte> EmptyBulk => "$0\r\n\r\n"u8;
    public static ReadOnlySpan<byte> WrongType => "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"u8;
    public static ReadOnlySpan<byte> SyntaxError => "-ERR syntax error\r\n"u8;
    public static ReadOnlySpan<byte> NotInteger => "-ERR value is not an integer or out of range\r\n"u8;
    public static ReadOnlySpan<byte> NotFloat => "-ERR value is not a valid float\r\n"u8;
    public static ReadOnlySpan<byte> Overflow => "-ERR increment or decrement would overflow\r\n"u8;
    public static ReadOnlySpan<byte> NoSuchKey => "-ERR no such key\r\n"u8;
    public static ReadOnlySpan<byte> NoAuth => "-NOAUTH Authentication required.\r\n"u8;
    public static ReadOnlySpan<byte> WrongPass => "-WRONGPASS invalid username-password pair or user is disabled.\r\n"u8;
    public static ReadOnlySpan<byte> Oom => "-OOM command not allowed when used memory > 'maxmemory'.\r\n"u8;
    public static ReadOnlySpan<byte> DbIndexOutOfRange => "-ERR DB index is out of range\r\n"u8;
    public static ReadOnlySpan<byte> StringTooLong => "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"u8;
    public static ReadOnlySpan<byte> InvalidCursor => "-ERR invalid cursor\r\n"u8;
    public static ReadOnlySpan<byte> Busy => "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n"u8;
    public static ReadOnlySpan<byte> MaxClients => "-ERR max number of clients reached\r\n"u8;
}
