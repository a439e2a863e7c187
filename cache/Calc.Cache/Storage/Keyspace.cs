using System.Diagnostics;

namespace Calc.Cache.Storage;

/// <summary>
/// One database (SELECT n): <see cref="ShardCount"/> stripes, each a dictionary under its own lock, so both cores
/// serve commands at once and a command on one key holds only that key's stripe. Commands over several keys lock
/// their stripes in ascending index order (<see cref="LockShards"/>); a command over two databases (MOVE, COPY ... DB)
/// locks the lower database's stripe first (<see cref="Databases.LockPair"/>), which rules out deadlock.
/// </summary>
internal sealed class Keyspace
{
    /// <summary>Power of two. Many stripes keep SCAN batches small: SCAN returns whole stripes.</summary>
    public const int ShardCount = 1024;

    private const int LruSamples = 5;
    private readonly Shard[] _shards = new Shard[ShardCount];
    private long _usedMemory;

    public Keyspace(int index = 0)
    {
        Index = index;
        for (var i = 0; i < _shards.Length; i++)
        {
            _shards[i] = new Shard(this);
        }
    }

    /// <summary>The database number (SELECT's argument); a database keeps its number, SWAPDB exchanges contents.</summary>
    public int Index { get; }

    /// <summary>Clients blocked in BLPOP/BRPOP/BLMOVE on this database's keys.</summary>
    public BlockingRegistry Blocking { get; } = new();

    /// <summary>Estimated bytes held by this database's keys and values (see <see cref="MemoryEstimate"/>).</summary>
    public long UsedMemory => Volatile.Read(ref _usedMemory);

    public Shard this[int index] => _shards[index];

    public static int ShardIndex(ReadOnlySpan<byte> key) => ByteArrayComparer.Hash(key) & (ShardCount - 1);

    public Shard ShardFor(ReadOnlySpan<byte> key) => _shards[ShardIndex(key)];

    internal void AddMemory(long delta) => Interlocked.Add(ref _usedMemory, delta);

    /// <summary>Number of keys (read without the stripe locks: exact when the store is quiet).</summary>
    public long Count() => _shards.Sum(s => (long)s.Count);

    public long VolatileCount() => _shards.Sum(s => (long)s.VolatileCount);

    public (long Hits, long Misses, long Expired, long Evicted) Stats()
    {
        long hits = 0, misses = 0, expired = 0, evicted = 0;
        foreach (var shard in _shards)
        {
            hits += Volatile.Read(ref shard.Hits);
            misses += Volatile.Read(ref shard.Misses);
            expired += Volatile.Read(ref shard.ExpiredKeys);
            evicted += Volatile.Read(ref shard.EvictedKeys);
        }

        return (hits, misses, expired, evicted);
    }

    /// <summary>Locks the stripes of <paramref name="keys"/> in ascending order; dispose to unlock.</summary>
    public ShardLocks LockShards(ReadOnlySpan<int> indices)
    {
        var sorted = indices.ToArray();
        Array.Sort(sorted);
        var count = 0;
        for (var i = 0; i < sorted.Length; i++)
        {
            if (count == 0 || sorted[count - 1] != sorted[i])
            {
                sorted[count++] = sorted[i];
            }
        }

        for (var i = 0; i < count; i++)
        {
            Monitor.Enter(_shards[sorted[i]]);
        }

        return new ShardLocks(this, sorted, count);
    }

    public ShardLocks LockAll()
    {
        var all = new int[ShardCount];
        for (var i = 0; i < all.Length; i++)
        {
            all[i] = i;
            Monitor.Enter(_shards[i]);
        }

        return new ShardLocks(this, all, all.Length);
    }

    public void FlushAll()
    {
        using var locks = LockAll();
        foreach (var shard in _shards)
        {
            shard.Clear();
        }
    }

    /// <summary>
    /// SWAPDB: exchanges every stripe's keys with <paramref name="other"/>'s. Call in the gate's exclusive section (no
    /// command runs); each pair of stripes is also locked, lower database first, against the AOF rewrite's walk. The
    /// watchers and blocked clients stay with their database number, as in Redis; watched keys that exist on either
    /// side are dirty.
    /// </summary>
    public void SwapWith(Keyspace other)
    {
        var (first, second) = Index < other.Index ? (this, other) : (other, this);
        for (var i = 0; i < ShardCount; i++)
        {
            lock (first._shards[i])
            {
                lock (second._shards[i])
                {
                    _shards[i].SwapContents(other._shards[i]);
                }
            }
        }

        var memory = Interlocked.Exchange(ref _usedMemory, Volatile.Read(ref other._usedMemory));
        Interlocked.Exchange(ref other._usedMemory, memory);
    }

    /// <summary>A random live key, or null when the keyspace is empty.</summary>
    public byte[]? RandomKey(long now)
    {
        for (var attempt = 0; attempt < 64; attempt++)
        {
            var shard = PickShard(volatileOnly: false);
            if (shard is null)
            {
                return null;
            }

            lock (shard)
            {
                var entry = shard.Sample(volatileOnly: false);
                if (entry is not null && !entry.IsExpired(now))
                {
                    return entry.Key;
                }
            }
        }

        return null;
    }

    /// <summary>Evicts one key by <paramref name="policy"/>; false if there is nothing it may evict.</summary>
    public bool EvictOne(EvictionPolicy policy)
    {
        var volatileOnly = policy is EvictionPolicy.VolatileLru or EvictionPolicy.VolatileRandom;
        var samples = policy is EvictionPolicy.AllKeysLru or EvictionPolicy.VolatileLru ? LruSamples : 1;
        Shard? bestShard = null;
        CacheEntry? best = null;
        for (var i = 0; i < samples; i++)
        {
            var shard = PickShard(volatileOnly);
            if (shard is null)
            {
                break;
            }

            lock (shard)
            {
                var candidate = shard.Sample(volatileOnly);
                if (candidate is not null && (best is null || candidate.LastAccess < best.LastAccess))
                {
                    (best, bestShard) = (candidate, shard);
                }
            }
        }

        if (best is null || bestShard is null)
        {
            return false;
        }

        lock (bestShard)
        {
            if (bestShard.Contains(best))
            {
                bestShard.Remove(best);
                bestShard.EvictedKeys++;
            }
        }

        return true;
    }

    /// <summary>
    /// Redis's active expiry cycle: per stripe, sample up to 20 keys with a TTL and delete the expired ones; repeat
    /// on the stripe while more than 25% of a sample was expired; stop when <paramref name="budget"/> is spent.
    /// Returns the next stripe to start from, so consecutive cycles cover the whole keyspace.
    /// </summary>
    public int ActiveExpireCycle(int startShard, TimeSpan budget, out long expired)
    {
        const int SamplesPerRound = 20;
        var watch = Stopwatch.StartNew();
        expired = 0;
        var index = startShard;
        for (var visited = 0; visited < ShardCount; visited++, index = (index + 1) & (ShardCount - 1))
        {
            var shard = _shards[index];
            if (shard.VolatileCount == 0)
            {
                continue;
            }

            while (true)
            {
                (int Sampled, int Expired) round;
                lock (shard)
                {
                    round = shard.ExpireSample(Clock.UnixMs, SamplesPerRound);
                }

                expired += round.Expired;
                if (round.Sampled == 0 || round.Expired * 4 <= round.Sampled || watch.Elapsed > budget)
                {
                    break;
                }
            }

            if (watch.Elapsed > budget)
            {
                return (index + 1) & (ShardCount - 1);
            }
        }

        return index;
    }

    private Shard? PickShard(bool volatileOnly)
    {
        for (var attempt = 0; attempt < 16; attempt++)
        {
            var shard = _shards[Random.Shared.Next(ShardCount)];
            if ((volatileOnly ? shard.VolatileCount : shard.Count) > 0)
            {
                return shard;
            }
        }

        var start = Random.Shared.Next(ShardCount);
        for (var i = 0; i < ShardCount; i++)
        {
            var shard = _shards[(start + i) & (ShardCount - 1)];
            if ((volatileOnly ? shard.VolatileCount : shard.Count) > 0)
            {
                return shard;
            }
        }

        return null;
    }

    /// <summary>Holds several stripe locks; releases them in reverse order.</summary>
    internal readonly struct ShardLocks(Keyspace keyspace, int[] indices, int count) : IDisposable
    {
        public void Dispose()
        {
            for (var i = count - 1; i >= 0; i--)
            {
                Monitor.Exit(keyspace._shards[indices[i]]);
            }
        }
    }
}
