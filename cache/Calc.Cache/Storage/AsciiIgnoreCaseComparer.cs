namespace Calc.Cache.Storage;

/// <summary>ASCII case-insensitive comparer for command names (GET, get and Get are one command).</summary>
internal sealed class AsciiIgnoreCaseComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
{
    public static readonly AsciiIgnoreCaseComparer Instance = new();

    public bool Equals(byte[]? x, byte[]? y) => x is not null && y is not null && System.Text.Ascii.EqualsIgnoreCase(x, y);

    public int GetHashCode(byte[] obj) => GetHashCode((ReadOnlySpan<byte>)obj);

    public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => System.Text.Ascii.EqualsIgnoreCase(alternate, other);

    public int GetHashCode(ReadOnlySpan<byte> alternate)
    {
        // Names are short; fold case with a bit mask (only letters matter for command names).
        uint hash = 2166136261;
        foreach (var b in alternate)
        {
            hash = (hash ^ (uint)(b | 0x20)) * 16777619;
        }

        return (int)hash;
    }

    public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();
}
