namespace Calc.Cache.Storage;

/// <summary>
/// The value of a list key: a ring buffer of elements, so pushes and pops at both ends are O(1) and an index is O(1)
/// (Redis's quicklist: O(1) ends, O(N) index). Inserting or removing in the middle moves the shorter side.
/// </summary>
internal sealed class ListValue : CollectionValue
{
    private byte[][] _items = new byte[4][];
    private int _head;
    private int _count;

    public override long ObjectBytes => MemoryEstimate.ListObject + (8L * _items.Length);

    public override int Count => _count;

    /// <summary>COPY: the same elements in order (arrays shared: LSET replaces an element, nothing changes one in place).</summary>
    public ListValue Clone()
    {
        var copy = new ListValue();
        for (var i = 0; i < _count; i++)
        {
            copy.PushRight(this[i]);
        }

        return copy;
    }

    public byte[] this[int index]
    {
        get => _items[Slot(index)];
        set
        {
            ref var slot = ref _items[Slot(index)];
            DataBytes += MemoryEstimate.Array(value.Length) - MemoryEstimate.Array(slot.Length);
            slot = value;
        }
    }

    public void PushLeft(byte[] value)
    {
        Grow();
        _head = (_head - 1 + _items.Length) & (_items.Length - 1);
        _items[_head] = value;
        _count++;
        DataBytes += MemoryEstimate.Array(value.Length);
    }

    public void PushRight(byte[] value)
    {
        Grow();
        _items[Slot(_count)] = value;
        _count++;
        DataBytes += MemoryEstimate.Array(value.Length);
    }

    public byte[] PopLeft()
    {
        var value = _items[_head];
        _items[_head] = null!;
        _head = (_head + 1) & (_items.Length - 1);
        _count--;
        Popped(value);
        return value;
    }

    public byte[] PopRight()
    {
        var slot = Slot(_count - 1);
        var value = _items[slot];
        _items[slot] = null!;
        _count--;
        Popped(value);
        return value;
    }

    /// <summary>Inserts before position <paramref name="index"/> (0..Count).</summary>
    public void Insert(int index, byte[] value)
    {
        if (index == 0)
        {
            PushLeft(value);
            return;
        }

        PushRight(value);
        for (var i = _count - 1; i > index; i--)
        {
            _items[Slot(i)] = _items[Slot(i - 1)];
        }

        _items[Slot(index)] = value;
    }

    public void RemoveAt(int index)
    {
        var value = _items[Slot(index)];
        if (index < _count / 2)
        {
            for (var i = index; i > 0; i--)
            {
                _items[Slot(i)] = _items[Slot(i - 1)];
            }

            _items[_head] = null!;
            _head = (_head + 1) & (_items.Length - 1);
        }
        else
        {
            for (var i = index; i < _count - 1; i++)
            {
                _items[Slot(i)] = _items[Slot(i + 1)];
            }

            _items[Slot(_count - 1)] = null!;
        }

        _count--;
        Popped(value);
    }

    /// <summary>Keeps only positions <paramref name="start"/>..<paramref name="stop"/> (inclusive, within range).</summary>
    public void Trim(int start, int stop)
    {
        var keep = stop - start + 1;
        for (var i = 0; i < start; i++)
        {
            Popped(_items[Slot(i)]);
            _items[Slot(i)] = null!;
        }

        for (var i = stop + 1; i < _count; i++)
        {
            Popped(_items[Slot(i)]);
            _items[Slot(i)] = null!;
        }

        _head = Slot(start);
        _count = keep;
        Shrink();
    }

    private int Slot(int index) => (_head + index) & (_items.Length - 1);

    private void Popped(byte[] value)
    {
        DataBytes -= MemoryEstimate.Array(value.Length);
        Shrink();
    }

    private void Grow()
    {
        if (_count < _items.Length)
        {
            return;
        }

        Resize(_items.Length * 2);
    }

    // A list that was long and became short gives its ring back (at a quarter full, so push/pop at the edge does not thrash).
    private void Shrink()
    {
        if (_items.Length > 16 && _count < _items.Length / 4)
        {
            Resize(_items.Length / 2);
        }
    }

    private void Resize(int size)
    {
        var items = new byte[size][];
        for (var i = 0; i < _count; i++)
        {
            items[i] = _items[Slot(i)];
        }

        _items = items;
        _head = 0;
    }
}
