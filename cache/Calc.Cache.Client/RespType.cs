namespace Calc.Cache.Client;

#pragma warning disable CA1720 // Integer and Double are RESP's own names for these types
/// <summary>Kind of a reply value. RESP3 maps and sets arrive as <see cref="Array"/> (maps flattened key, value).</summary>
public enum RespType
{
    /// <summary>A simple string such as <c>OK</c>.</summary>
    SimpleString,

    /// <summary>An error reply.</summary>
    Error,

    /// <summary>An integer.</summary>
    Integer,

    /// <summary>A bulk string (binary safe).</summary>
    BulkString,

    /// <summary>An array (also RESP3 maps, flattened, and sets).</summary>
    Array,

    /// <summary>A null bulk string, null array or RESP3 null.</summary>
    Null,

    /// <summary>A RESP3 double (kept as its text).</summary>
    Double,

    /// <summary>A RESP3 boolean (Integer 1 or 0).</summary>
    Boolean,
}
#pragma warning restore CA1720
