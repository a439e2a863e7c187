namespace Calc.Cache.Storage;

/// <summary>
/// The numbered databases (SELECT 0 .. <c>databases</c>-1, 16 by default as Redis). Database 0 exists from the start;
/// another is created the first time it is used (a <see cref="Keyspace"/> is 1024 stripes, about 300 KB empty), so a
/// server that never selects one pays nothing for it. A session keeps a reference to its selected database, so a
/// command on db 0 costs what it did with one database.
/// </summary>
internal sealed class Databases
{
    private readonly Keyspace?[] _databases;
    private int _created = 1;

    public Databases(int count)
    {
        _databases = new Keyspace?[count];
        _databases[0] = new Keyspace(0);
    }

    public int Count => _databases.Length;

    /// <summary>Database <paramref name="index"/> (0 ≤ index &lt; <see cref="Count"/>), created on first use.</summary>
    public Keyspace this[int index]
    {
        get
        {
            var db = Volatile.Read(ref _databases[index]);
            if (db is not null)
            {
                return db;
            }

            if (Interlocked.CompareExchange(ref _databases[index], new Keyspace(index), null) is null)
            {
                Interlocked.Increment(ref _created);
            }

            return _databases[index]!;
        }
    }

    /// <summary>The databases created so far, in number order.</summary>
    public IEnumerable<Keyspace> Existing
    {
        get
        {
            for (var i = 0; i < _databases.Length; i++)
            {
                if (Volatile.Read(ref _databases[i]) is { } db)
                {
                    yield return db;
                }
            }
        }
    }

    /// <summary>Estimated bytes held by every database (what maxmemory compares against, as Redis's used_memory).</summary>
    public long UsedMemory
    {
        get
        {
            long sum = 0;
            foreach (var db in _databases)
            {
                sum += db?.UsedMemory ?? 0;
            }

            return sum;
        }
    }

    public (long Hits, long Misses, long Expired, long Evicted) Stats()
    {
        long hits = 0, misses = 0, expired = 0, evicted = 0;
        foreach (var db in Existing)
        {
            var s = db.Stats();
            (hits, misses, expired, evicted) = (hits + s.Hits, misses + s.Misses, expired + s.Expired, evicted + s.Evicted);
        }

        return (hits, misses, expired, evicted);
    }

    public int BlockedClients => Existing.Sum(db => db.Blocking.BlockedClients);

    /// <summary>FLUSHALL: every database emptied.</summary>
    public void FlushAll()
    {
        foreach (var db in Existing)
        {
            db.FlushAll();
        }
    }

    /// <summary>
    /// Evicts one key by <paramref name="policy"/> from the database holding the most memory (the next one when it
    /// has nothing the policy may evict); false when no database has.
    /// </summary>
    public bool EvictOne(EvictionPolicy policy)
    {
        if (Volatile.Read(ref _created) == 1)
        {
            return _databases[0]!.EvictOne(policy);
        }

        foreach (var db in Existing.OrderByDescending(d => d.UsedMemory))
        {
            if (db.UsedMemory > 0 && db.EvictOne(policy))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>One active expiry cycle over every database, each with its own stripe cursor in <paramref name="cursors"/>.</summary>
    public void ActiveExpireCycle(int[] cursors, TimeSpan budget)
    {
        var existing = Existing.ToArray();
        var share = budget / existing.Length;
        foreach (var db in existing)
        {
            cursors[db.Index] = db.ActiveExpireCycle(cursors[db.Index], share, out _);
        }
    }

    /// <summary>
    /// Locks stripe <paramref name="shardA"/> of <paramref name="a"/> and <paramref name="shardB"/> of
    /// <paramref name="b"/> (two different databases), the lower database first; dispose to unlock.
    /// </summary>
    public static PairLock LockPair(Keyspace a, int shardA, Keyspace b, int shardB)
    {
        var (first, second) = a.Index < b.Index ? (a[shardA], b[shardB]) : (b[shardB], a[shardA]);
        Monitor.Enter(first);
        Monitor.Enter(second);
        return new PairLock(first, second);
    }

    internal readonly struct PairLock(Shard first, Shard second) : IDisposable
    {
        public void Dispose()
        {
            Monitor.Exit(second);
            Monitor.Exit(first);
        }
    }
}
