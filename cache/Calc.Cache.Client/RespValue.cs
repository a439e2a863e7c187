using System.Globalization;
using System.Text;

namespace Calc.Cache.Client;

/// <summary>One reply from the server.</summary>
public sealed class RespValue
{
    internal static readonly RespValue Null = new(RespType.Null);

    private readonly byte[]? _bytes;
    private readonly long _integer;
    private readonly RespValue[]? _elements;

    internal RespValue(RespType type, byte[]? bytes = null, long integer = 0, RespValue[]? elements = null)
    {
        Type = type;
        _bytes = bytes;
        _integer = integer;
        _elements = elements;
    }

    /// <summary>The kind of value.</summary>
    public RespType Type { get; }

    /// <summary>True for null replies.</summary>
    public bool IsNull => Type == RespType.Null;

    /// <summary>The elements of an array reply; null for other kinds.</summary>
    public IReadOnlyList<RespValue>? Elements => _elements;

    /// <summary>The value as text (strings, errors, doubles, integers); null for null.</summary>
    public string? AsString() => Type switch
    {
        RespType.Null or RespType.Array => null,
        RespType.Integer or RespType.Boolean => _integer.ToString(CultureInfo.InvariantCulture),
        _ => Encoding.UTF8.GetString(_bytes!),
    };

    /// <summary>The raw bytes of a string reply; null for null.</summary>
    public byte[]? AsBytes() => Type switch
    {
        RespType.Null or RespType.Array => null,
        RespType.Integer or RespType.Boolean => Encoding.ASCII.GetBytes(_integer.ToString(CultureInfo.InvariantCulture)),
        _ => _bytes,
    };

    /// <summary>The value of an integer reply (or of a string holding an integer).</summary>
    public long AsInt64() => Type is RespType.Integer or RespType.Boolean
        ? _integer
        : long.Parse(AsString() ?? throw new InvalidCastException("Null reply is not an integer."), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public override string ToString() => Type switch
    {
        RespType.Array => "[" + string.Join(", ", _elements!.Select(e => e.ToString())) + "]",
        RespType.Null => "(nil)",
        RespType.Error => "(error) " + AsString(),
        _ => AsString() ?? "",
    };
}
