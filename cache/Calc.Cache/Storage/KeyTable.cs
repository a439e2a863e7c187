namespace Calc.Cache.Storage;

/// <summary>
/// The keys of one shard: an open-addressing hash table (linear probing, backward-shift deletion) of entries with
/// their key's hash beside them. A lookup reads one slot, then the entry and its key only when the hash matches:
/// fewer dependent cache misses than <see cref="Dictionary{TKey, TValue}"/> (bucket, entry, key array, value
/// object), which is most of what a GET costs once the keyspace outgrows the CPU caches. Not thread-safe: the shard's
/// lock guards it.
/// </summary>
internal sealed class KeyTable
{
    private const int MinimumSize = 8;
    private Slot[] _slots = new Slot[MinimumSize];
    private int _shift = 32 - 3;

    public int Count { get; private set; }

    public CacheEntry? Find(ReadOnlySpan<byte> key)
    {
        var hash = ByteArrayComparer.Hash(key);
        var slots = _slots;
        var mask = slots.Length - 1;
        for (var i = Home(hash); ; i = (i + 1) & mask)
        {
            ref var slot = ref slots[i];
            var entry = slot.Entry;
            if (entry is null)
            {
                return null;
            }

            if (slot.Hash == hash && key.SequenceEqual(entry.Key))
            {
                return entry;
            }
        }
    }

    /// <summary>Adds an entry whose key is not in the table.</summary>
    public void Add(CacheEntry entry)
    {
        if ((Count + 1) * 4L > _slots.Length * 3L)
        {
            Resize(_slots.Length * 2);
        }

        Insert(_slots, _shift, ByteArrayComparer.Hash(entry.Key), entry);
        Count++;
    }

    /// <summary>Removes this entry (by reference); false if it is not in the table.</summary>
    public bool Remove(CacheEntry entry)
    {
        var slots = _slots;
        var mask = slots.Length - 1;
        var hash = ByteArrayComparer.Hash(entry.Key);
        var i = Home(hash);
        while (!ReferenceEquals(slots[i].Entry, entry))
        {
            if (slots[i].Entry is null)
            {
                return false;
            }

            i = (i + 1) & mask;
        }

        // Backward-shift deletion: pull later slots of the probe run into the hole, so lookups never need tombstones.
        slots[i] = default;
        var j = i;
        while (true)
        {
            j = (j + 1) & mask;
            if (slots[j].Entry is null)
            {
                break;
            }

            var home = Home(slots[j].Hash);
            var stays = i <= j ? home > i && home <= j : home > i || home <= j;
            if (!stays)
            {
                slots[i] = slots[j];
                slots[j] = default;
                i = j;
            }
        }

        Count--;

        // Shrink below 3/16 load (to 3/8 after halving), so sampling walks stay short once most keys are gone; the gap
        // to the 3/4 growth threshold keeps a table from resizing back and forth.
        if (_slots.Length > MinimumSize && Count * 16L < _slots.Length * 3L)
        {
            Resize(_slots.Length / 2);
        }

        return true;
    }

    /// <summary>
    /// A random entry, or null when the table is empty: a random slot, then the next occupied slot from there
    /// (wrapping), as Redis samples its hash buckets. Slightly biased: an entry after a run of empty slots is picked
    /// more often than one inside a cluster. Eviction, RANDOMKEY and the LRU approximation tolerate that, and it saves
    /// keeping a dense list of every entry (8-12 bytes per key). The load factor stays at 3/16 or more (the table
    /// shrinks), so the expected walk is a few slots.
    /// </summary>
    public CacheEntry? Sample()
    {
        if (Count == 0)
        {
            return null;
        }

        var slots = _slots;
        var mask = slots.Length - 1;
        for (var i = Random.Shared.Next(slots.Length); ; i = (i + 1) & mask)
        {
            if (slots[i].Entry is { } entry)
            {
                return entry;
            }
        }
    }

    /// <summary>Every entry, in slot order. The table must not change during the walk.</summary>
    public IEnumerable<CacheEntry> Entries()
    {
        var slots = _slots;
        foreach (var slot in slots)
        {
            if (slot.Entry is not null)
            {
                yield return slot.Entry;
            }
        }
    }

    public void Clear()
    {
        _slots = new Slot[MinimumSize];
        _shift = 32 - 3;
        Count = 0;
    }

    // Fibonacci hashing: the top bits of the product depend on every bit of the hash, including the low ones that
    // picked this shard (all keys of a shard share those).
    private int Home(int hash) => (int)(((uint)hash * 0x9E3779B9u) >> _shift);

    private void Resize(int size)
    {
        var slots = new Slot[size];
        var shift = 32 - System.Numerics.BitOperations.Log2((uint)size);
        foreach (var slot in _slots)
        {
            if (slot.Entry is not null)
            {
                Insert(slots, shift, slot.Hash, slot.Entry);
            }
        }

        _slots = slots;
        _shift = shift;
    }

    private static void Insert(Slot[] slots, int shift, int hash, CacheEntry entry)
    {
        var mask = slots.Length - 1;
        var i = (int)(((uint)hash * 0x9E3779B9u) >> shift);
        while (slots[i].Entry is not null)
        {
            i = (i + 1) & mask;
        }

        slots[i] = new Slot(hash, entry);
    }

    private readonly record struct Slot(int Hash, CacheEntry? Entry);
}
