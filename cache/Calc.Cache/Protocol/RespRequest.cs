using System.Buffers;

namespace Calc.Cache.Protocol;

/// <summary>
/// The arguments of one parsed command. A connection reuses one instance for every command, so parsing allocates
/// nothing once the arena has grown to the connection's usual command size. The spans it hands out are valid only
/// until the next parse.
/// </summary>
public sealed class RespRequest
{
    private const int ShrinkAbove = 1024 * 1024;
    private byte[] _arena = new byte[512];
    private int _used;
    private (int Start, int Length)[] _args = new (int, int)[8];

    /// <summary>Number of arguments, the command name included.</summary>
    public int Count { get; private set; }

    /// <summary>Argument <paramref name="index"/> (0 is the command name).</summary>
    public ReadOnlySpan<byte> this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)Count, nameof(index));
            var (start, length) = _args[index];
            return _arena.AsSpan(start, length);
        }
    }

    /// <summary>Copies argument <paramref name="index"/> into a new array (for values the store keeps).</summary>
    public byte[] ToArray(int index) => this[index].ToArray();

    /// <summary>Argument <paramref name="index"/> as text (for names, options and errors; never on a hot path).</summary>
    public string GetString(int index) => System.Text.Encoding.UTF8.GetString(this[index]);

    internal void Reset()
    {
        if (_arena.Length > ShrinkAbove)
        {
            _arena = new byte[512];
        }

        _used = 0;
        Count = 0;
    }

    internal void Add(ReadOnlySequence<byte> data)
    {
        var length = checked((int)data.Length);
        var target = Reserve(length);
        data.CopyTo(target);
    }

    internal void Add(ReadOnlySpan<byte> data) => data.CopyTo(Reserve(data.Length));

    private Span<byte> Reserve(int length)
    {
        if (Count == _args.Length)
        {
            Array.Resize(ref _args, _args.Length * 2);
        }

        if (_arena.Length - _used < length)
        {
            var size = Math.Max(_arena.Length * 2L, (long)_used + length);
            Array.Resize(ref _arena, (int)Math.Min(size, Array.MaxLength));
        }

        _args[Count++] = (_used, length);
        var span = _arena.AsSpan(_used, length);
        _used += length;
        return span;
    }
}
