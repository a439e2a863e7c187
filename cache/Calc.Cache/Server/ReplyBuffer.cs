using System.Buffers;

namespace Calc.Cache.Server;

/// <summary>
/// A connection's replies waiting to be sent: one contiguous, growable array, written at the end and sent from the
/// start. The direct path sends after every batch, so it is nearly always empty between events; a large reply grows
/// it, and it shrinks back once sent so an idle connection holds only a small array.
/// </summary>
internal sealed class ReplyBuffer : IBufferWriter<byte>
{
    private const int InitialSize = 4 * 1024;
    private const int ShrinkAbove = 64 * 1024;
    private byte[] _buffer = new byte[InitialSize];
    private int _start;
    private int _end;

    /// <summary>Bytes written and not yet sent.</summary>
    public int Length => _end - _start;

    /// <summary>The bytes to send next.</summary>
    public ReadOnlySpan<byte> Pending => _buffer.AsSpan(_start, _end - _start);

    /// <summary>Drops <paramref name="count"/> sent bytes from the start.</summary>
    public void Consume(int count)
    {
        _start += count;
        if (_start == _end)
        {
            _start = _end = 0;
            if (_buffer.Length > ShrinkAbove)
            {
                _buffer = new byte[InitialSize];
            }
        }
    }

    /// <summary>Forgets everything not yet sent (the connection is closing).</summary>
    public void Clear()
    {
        _start = _end = 0;
        _buffer = [];
    }

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)count, (uint)(_buffer.Length - _end), nameof(count));
        _end += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Reserve(sizeHint);
        return _buffer.AsMemory(_end);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Reserve(sizeHint);
        return _buffer.AsSpan(_end);
    }

    private void Reserve(int sizeHint)
    {
        sizeHint = Math.Max(sizeHint, 1);
        if (_buffer.Length - _end >= sizeHint)
        {
            return;
        }

        var length = Length;
        var target = _buffer;
        if ((long)length + sizeHint > _buffer.Length)
        {
            var size = Math.Max(Math.Max(_buffer.Length * 2L, InitialSize), (long)length + sizeHint);
            target = new byte[(int)Math.Min(size, Array.MaxLength)];
        }

        Buffer.BlockCopy(_buffer, _start, target, 0, length); // also compacts in place when the array is big enough
        _buffer = target;
        _start = 0;
        _end = length;
    }
}
