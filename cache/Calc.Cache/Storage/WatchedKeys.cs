namespace Calc.Cache.Storage;

/// <summary>
/// One connection's WATCH state: set dirty by the first write to any key it watches, from any connection or thread
/// (a command, lazy or active expiry, eviction, FLUSHALL). EXEC aborts when it is dirty.
/// </summary>
internal sealed class WatchState
{
    private volatile bool _dirty;

    public bool Dirty => _dirty;

    public void Invalidate() => _dirty = true;

    public void Clear() => _dirty = false;
}

/// <summary>
/// The watchers of one shard's keys, by key; lives in <see cref="Shard"/> and is used under its lock only. A shard
/// with no watcher has none (null), so a write pays one field test.
/// </summary>
internal sealed class ShardWatchers
{
    private readonly Dictionary<byte[], List<WatchState>> _byKey = new(ByteArrayComparer.Instance);

    public bool IsEmpty => _byKey.Count == 0;

    public void Add(byte[] key, WatchState watcher)
    {
        if (!_byKey.TryGetValue(key, out var list))
        {
            _byKey[key] = list = [];
        }

        if (!list.Contains(watcher))
        {
            list.Add(watcher);
        }
    }

    public void Remove(byte[] key, WatchState watcher)
    {
        if (_byKey.TryGetValue(key, out var list) && list.Remove(watcher) && list.Count == 0)
        {
            _byKey.Remove(key);
        }
    }

    /// <summary>A write to <paramref name="key"/>: its watchers are dirty, and need no more notice.</summary>
    public void Written(byte[] key)
    {
        if (_byKey.Remove(key, out var list))
        {
            foreach (var watcher in list)
            {
                watcher.Invalidate();
            }
        }
    }

    /// <summary>The shard is emptied (FLUSHALL): as Redis, watchers of keys that existed are dirty.</summary>
    public void Flushed(Func<byte[], bool> existed)
    {
        foreach (var key in _byKey.Keys.ToArray())
        {
            if (existed(key))
            {
                Written(key);
            }
        }
    }
}
