namespace Calc.Cache.Storage;

/// <summary>
/// A client blocked in BLPOP, BRPOP, BLMPOP, BLMOVE or BRPOPLPUSH. Exactly one of three things ends the wait, decided by one
/// compare-and-swap on its state: a command that made one of its keys a non-empty list serves it
/// (<see cref="TryClaim"/>, on that command's thread, with the keys' shards locked), its timeout expires, or its
/// connection goes away (<see cref="TryCancel"/>). Only the first two wake the client, whose own loop then writes
/// the reply: no thread writes into another connection's buffers.
/// </summary>
internal sealed class BlockedPop : IDisposable
{
    private const int Waiting = 0;
    private const int Served = 1;
    private const int Cancelled = 2;

    private readonly BlockingRegistry _registry;
    private readonly Action _wake;
    private Timer? _timer;
    private int _state;

    public BlockedPop(BlockingRegistry registry, byte[][] keys, bool left, byte[]? destination, bool destinationLeft, Action wake, int popCount = 0)
    {
        PopCount = popCount;
        _registry = registry;
        Keys = keys;
        Left = left;
        Destination = destination;
        DestinationLeft = destinationLeft;
        _wake = wake;
    }

    public byte[][] Keys { get; }

    /// <summary>Pops from the head (BLPOP, BLMOVE LEFT ...) or the tail.</summary>
    public bool Left { get; }

    /// <summary>BLMOVE's destination; null for BLPOP/BRPOP.</summary>
    public byte[]? Destination { get; }

    public bool DestinationLeft { get; }

    /// <summary>BLMPOP's COUNT: up to this many elements, answered as [key, [elements]]; 0 for the one-element commands.</summary>
    public int PopCount { get; }

    /// <summary>BLMPOP: the elements popped (set with the claim).</summary>
    public byte[][]? ServedValues { get; private set; }

    /// <summary>Set with the claim: the key served and the element popped.</summary>
    public byte[]? ServedKey { get; private set; }

    public byte[]? ServedValue { get; private set; }

    /// <summary>BLMOVE's destination turned out to hold another type: the client gets WRONGTYPE.</summary>
    public bool WrongType { get; private set; }

    /// <summary>True once served or timed out (the client's loop reads the outcome after its wake-up).</summary>
    public bool IsServed => Volatile.Read(ref _state) == Served;

    /// <summary>Starts the timeout (0 = wait forever). Call after the waiter is registered.</summary>
    public void StartTimer(long timeoutMs)
    {
        if (timeoutMs <= 0)
        {
            return;
        }

        // System.Threading.Timer takes at most 2^32-2 ms (49 days); a longer wait is as good as forever here.
        var due = (uint)Math.Min(timeoutMs, uint.MaxValue - 1);
        _timer = new Timer(static state => ((BlockedPop)state!).Expire(), this, TimeSpan.FromMilliseconds(due), Timeout.InfiniteTimeSpan);
    }

    /// <summary>Takes the waiter for serving; false if it timed out or was cancelled first.</summary>
    public bool TryClaim() => Interlocked.CompareExchange(ref _state, Served, Waiting) == Waiting;

    /// <summary>The value popped for this client; it is woken. Call after a successful <see cref="TryClaim"/>.</summary>
    public void Complete(byte[] key, byte[] value)
    {
        ServedKey = key;
        ServedValue = value;
        Finish();
    }

    /// <summary>BLMPOP's elements; it is woken. Call after a successful <see cref="TryClaim"/>.</summary>
    public void Complete(byte[] key, byte[][] values)
    {
        ServedKey = key;
        ServedValues = values;
        Finish();
    }

    public void CompleteWrongType()
    {
        WrongType = true;
        Finish();
    }

    /// <summary>The client went away: stop waiting without waking it.</summary>
    public void Cancel()
    {
        if (Interlocked.CompareExchange(ref _state, Cancelled, Waiting) == Waiting)
        {
            Dispose();
            _registry.Remove(this);
        }
    }

    /// <summary>Stops the timer (done by whichever of serve, timeout or cancel ends the wait).</summary>
    public void Dispose() => _timer?.Dispose();

    private void Expire()
    {
        if (Interlocked.CompareExchange(ref _state, Cancelled, Waiting) == Waiting)
        {
            _registry.Remove(this);
            Dispose();
            _wake();
        }
    }

    private void Finish()
    {
        _registry.Remove(this);
        Dispose();
        _wake();
    }
}

/// <summary>
/// The clients blocked on each key, first come first served. A command that pushes to a key asks
/// <see cref="HasWaiters"/> with the key's shard locked (one volatile read when nobody is blocked), and a blocking
/// command registers with its keys' shards locked, so a push can never slip between a blocking command's empty check
/// and its registration. Lock order: shard locks, then this registry's lock.
/// </summary>
internal sealed class BlockingRegistry
{
    private readonly Lock _gate = new();
    private readonly Dictionary<byte[], List<BlockedPop>> _byKey = new(ByteArrayComparer.Instance);
    private int _blocked;

    /// <summary>Clients blocked now (INFO clients blocked_clients).</summary>
    public int BlockedClients => Volatile.Read(ref _blocked);

    public void Add(BlockedPop waiter)
    {
        lock (_gate)
        {
            foreach (var key in waiter.Keys)
            {
                if (!_byKey.TryGetValue(key, out var list))
                {
                    _byKey[key] = list = [];
                }

                if (!list.Contains(waiter))
                {
                    list.Add(waiter);
                }
            }

            _blocked++;
        }
    }

    /// <summary>Removes the waiter from every key's queue; a second call does nothing.</summary>
    public void Remove(BlockedPop waiter)
    {
        lock (_gate)
        {
            var found = false;
            foreach (var key in waiter.Keys)
            {
                if (_byKey.TryGetValue(key, out var list) && list.Remove(waiter))
                {
                    found = true;
                    if (list.Count == 0)
                    {
                        _byKey.Remove(key);
                    }
                }
            }

            if (found)
            {
                _blocked--;
            }
        }
    }

    public bool HasWaiters(ReadOnlySpan<byte> key)
    {
        if (Volatile.Read(ref _blocked) == 0)
        {
            return false;
        }

        lock (_gate)
        {
            return _byKey.GetAlternateLookup<ReadOnlySpan<byte>>().ContainsKey(key);
        }
    }

    /// <summary>The keys someone waits on now (SWAPDB checks them against the swapped-in contents).</summary>
    public byte[][] Keys()
    {
        if (Volatile.Read(ref _blocked) == 0)
        {
            return [];
        }

        lock (_gate)
        {
            return [.. _byKey.Keys];
        }
    }

    /// <summary>The longest-waiting client on <paramref name="key"/>, or null.</summary>
    public BlockedPop? First(byte[] key)
    {
        lock (_gate)
        {
            return _byKey.TryGetValue(key, out var list) && list.Count > 0 ? list[0] : null;
        }
    }
}
