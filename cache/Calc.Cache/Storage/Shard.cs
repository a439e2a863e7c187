namespace Calc.Cache.Storage;

/// <summary>
/// One stripe of the keyspace: a hash table of its keys (<see cref="KeyTable"/>, which also samples a random key) plus
/// a dense list of the keys with a TTL for O(1) sampling by active expiry and the volatile policies. Every member must
/// be called with the shard locked (<c>lock (shard)</c>); the shard is its own lock object.
/// </summary>
/// <remarks>
/// Memory accounting without a size field per entry: a string entry is accounted at what
/// <see cref="MemoryEstimate.Of"/> says of it at any time (its arrays change only through <see cref="SetValue"/>), a hash,
/// list, set or sorted set changes in place and carries the size it was last accounted at
/// (<see cref="CollectionValue.AccountedBytes"/>).
/// </remarks>
internal sealed class Shard
{
    private KeyTable _keys = new();
    private List<CacheEntry> _volatile = [];
    private readonly Keyspace _owner;

    public Shard(Keyspace owner)
    {
        _owner = owner;
    }

    public int Count => _keys.Count;

    // WATCH: every change of a key in this shard goes through the members below (Add, SetValue, Resized, Modified,
    // Remove, SetExpiry, Clear) and tells the key's watchers; null while nobody watches a key here.
    private ShardWatchers? _watchers;

    public void Watch(byte[] key, WatchState watcher) => (_watchers ??= new()).Add(key, watcher);

    public void Unwatch(byte[] key, WatchState watcher)
    {
        _watchers?.Remove(key, watcher);
        if (_watchers is { IsEmpty: true })
        {
            _watchers = null;
        }
    }

    private void Written(byte[] key)
    {
        if (_watchers is not null)
        {
            _watchers.Written(key);
            if (_watchers.IsEmpty)
            {
                _watchers = null;
            }
        }
    }

    /// <summary>Call after changing a value in place without a size change (SET over a value of the same length).</summary>
    public void Modified(CacheEntry entry) => Written(entry.Key);

    public int VolatileCount => _volatile.Count;

    // Statistics, written under the shard lock and summed without it (INFO tolerates a torn read).
    public long Hits;
    public long Misses;
    public long ExpiredKeys;
    public long EvictedKeys;

    /// <summary>Finds a live key; an expired key is deleted on the way (lazy expiry).</summary>
    public CacheEntry? Find(ReadOnlySpan<byte> key, long now, bool touch = true)
    {
        var entry = _keys.Find(key);
        if (entry is null)
        {
            return null;
        }

        if (entry.IsExpired(now))
        {
            Remove(entry);
            ExpiredKeys++;
            return null;
        }

        if (touch)
        {
            entry.Touch(now);
        }

        return entry;
    }

    /// <summary>Finds a live key and counts a keyspace hit or miss (read commands).</summary>
    public CacheEntry? Lookup(ReadOnlySpan<byte> key, long now)
    {
        var entry = Find(key, now);
        if (entry is null)
        {
            Misses++;
        }
        else
        {
            Hits++;
        }

        return entry;
    }

    /// <summary>Adds a key that <see cref="Find"/> just reported missing; <paramref name="now"/> is the command's clock read.</summary>
    public CacheEntry Add(byte[] key, object value, long now, long expiresAt = 0)
    {
        var entry = new CacheEntry(key, value);
        Written(key);
        entry.Touch(now);
        _keys.Add(entry);
        SetExpiry(entry, expiresAt);
        _owner.AddMemory(Recount(entry));
        return entry;
    }

    /// <summary>Replaces the value of a key and fixes the memory accounting.</summary>
    public void SetValue(CacheEntry entry, object value)
    {
        var old = Accounted(entry);
        Written(entry.Key);
        entry.Value = value;
        _owner.AddMemory(Recount(entry) - old);
    }

    /// <summary>Call after changing a collection value in place (HSET, LPUSH, SADD, ZADD...).</summary>
    public void Resized(CacheEntry entry)
    {
        Written(entry.Key);
        var old = Accounted(entry);
        _owner.AddMemory(Recount(entry) - old);
    }

    public void Remove(CacheEntry entry)
    {
        Written(entry.Key);
        _keys.Remove(entry);
        if (entry.VolatileSlot >= 0)
        {
            RemoveAt(_volatile, entry.VolatileSlot, static (e, i) => e.VolatileSlot = i);
            entry.VolatileSlot = -1;
        }

        _owner.AddMemory(-Accounted(entry));
    }

    /// <summary>
    /// Whether this very entry is still in the shard: its key may have been deleted, or deleted and set again (a new
    /// entry), since the caller sampled it without the lock.
    /// </summary>
    public bool Contains(CacheEntry entry) => ReferenceEquals(_keys.Find(entry.Key), entry);

    /// <summary>Sets (or with 0 clears) the absolute expiry of a key.</summary>
    public void SetExpiry(CacheEntry entry, long expiresAt)
    {
        Written(entry.Key);
        entry.ExpiresAt = expiresAt;
        if (expiresAt != 0 && entry.VolatileSlot < 0)
        {
            entry.VolatileSlot = _volatile.Count;
            _volatile.Add(entry);
        }
        else if (expiresAt == 0 && entry.VolatileSlot >= 0)
        {
            RemoveAt(_volatile, entry.VolatileSlot, static (e, i) => e.VolatileSlot = i);
            entry.VolatileSlot = -1;
        }
    }

    public CacheEntry? Sample(bool volatileOnly)
    {
        if (!volatileOnly)
        {
            return _keys.Sample();
        }

        return _volatile.Count == 0 ? null : _volatile[Random.Shared.Next(_volatile.Count)];
    }

    /// <summary>One round of Redis's active expiry on this shard: test up to <paramref name="samples"/> keys with a TTL.</summary>
    public (int Sampled, int Expired) ExpireSample(long now, int samples)
    {
        var sampled = Math.Min(samples, _volatile.Count);
        var expired = 0;
        for (var i = 0; i < sampled && _volatile.Count > 0; i++)
        {
            var entry = _volatile[Random.Shared.Next(_volatile.Count)];
            if (entry.IsExpired(now))
            {
                Remove(entry);
                ExpiredKeys++;
                expired++;
            }
        }

        return (sampled, expired);
    }

    /// <summary>Adds the live keys of this shard to <paramref name="keys"/>, filtered by <paramref name="accept"/>.</summary>
    public void CollectKeys(long now, List<byte[]> keys, Func<CacheEntry, bool>? accept)
    {
        foreach (var entry in _keys.Entries())
        {
            if (!entry.IsExpired(now) && (accept is null || accept(entry)))
            {
                keys.Add(entry.Key);
            }
        }
    }

    /// <summary>Every entry of the shard, expired ones included (the shard must stay locked and unchanged during the walk).</summary>
    public IEnumerable<CacheEntry> Entries() => _keys.Entries();

    public void Clear()
    {
        if (_watchers is not null)
        {
            _watchers.Flushed(key => _keys.Find(key) is not null);
            _watchers = _watchers.IsEmpty ? null : _watchers;
        }

        long freed = 0;
        foreach (var entry in _keys.Entries())
        {
            freed += Accounted(entry);
        }

        _keys.Clear();
        _volatile.Clear();
        _volatile.TrimExcess();
        _owner.AddMemory(-freed);
    }

    /// <summary>
    /// SWAPDB: exchanges this stripe's keys with the same stripe of another database (both locked). The watchers stay
    /// (they watch a key of a database number); those of keys that exist on either side are dirty, as Redis's
    /// touchAllWatchedKeysInDb.
    /// </summary>
    public void SwapContents(Shard other)
    {
        TouchWatchersOfKeysIn(other);
        other.TouchWatchersOfKeysIn(this);
        (_keys, other._keys) = (other._keys, _keys);
        (_volatile, other._volatile) = (other._volatile, _volatile);
    }

    private void TouchWatchersOfKeysIn(Shard other)
    {
        if (_watchers is not null)
        {
            _watchers.Flushed(key => _keys.Find(key) is not null || other._keys.Find(key) is not null);
            _watchers = _watchers.IsEmpty ? null : _watchers;
        }
    }

    /// <summary>Bytes this entry is counted for in <see cref="Keyspace.UsedMemory"/>.</summary>
    private static long Accounted(CacheEntry entry) => entry.Value is CollectionValue collection ? collection.AccountedBytes : MemoryEstimate.Of(entry);

    /// <summary>The entry's size now, remembered by a hash value for the next <see cref="Accounted"/>.</summary>
    private static long Recount(CacheEntry entry)
    {
        var size = MemoryEstimate.Of(entry);
        if (entry.Value is CollectionValue collection)
        {
            collection.AccountedBytes = size;
        }

        return size;
    }

    // Swap-with-last removal keeps the list dense; the moved entry's index is fixed up.
    private static void RemoveAt(List<CacheEntry> list, int index, Action<CacheEntry, int> setIndex)
    {
        var last = list.Count - 1;
        if (index != last)
        {
            var moved = list[last];
            list[index] = moved;
            setIndex(moved, index);
        }

        list.RemoveAt(last);
    }
}
