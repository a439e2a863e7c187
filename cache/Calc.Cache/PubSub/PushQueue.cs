namespace Calc.Cache.PubSub;

/// <summary>
/// A subscriber's messages waiting for its connection's thread: publishers on any loop append under the lock, the
/// connection's loop takes them into its reply buffer (<see cref="TakeAll"/>) when it is woken or starts a batch.
/// Bounded as Redis's <c>client-output-buffer-limit pubsub</c>: past the hard limit, or above the soft limit for
/// longer than its seconds, <see cref="Enqueue"/> returns false and the connection is closed; the queue is dropped.
/// </summary>
internal sealed class PushQueue
{
    private readonly Lock _gate = new();
    private List<byte[]> _items = [];
    private long _bytes;
    private long _softSince; // Environment.TickCount64 when the queue went above the soft limit; 0 while below
    private bool _overLimit;

    /// <summary>Bytes queued (for INFO and tests); any thread.</summary>
    public long Bytes
    {
        get
        {
            lock (_gate)
            {
                return _bytes;
            }
        }
    }

    /// <summary>Any thread: queues a message; false when the limits say disconnect (the message is dropped).</summary>
    /// <returns>Also false once over the limit; <paramref name="first"/> is true when the queue was empty (wake the loop).</returns>
    public bool Enqueue(byte[] message, long hardLimit, long softLimit, int softSeconds, out bool first)
    {
        lock (_gate)
        {
            first = _items.Count == 0;
            if (_overLimit)
            {
                return false;
            }

            var bytes = _bytes + message.Length;
            var now = Environment.TickCount64;
            if (softLimit > 0 && bytes > softLimit)
            {
                _softSince = _softSince == 0 ? now : _softSince;
            }
            else
            {
                _softSince = 0;
            }

            if ((hardLimit > 0 && bytes > hardLimit) || (_softSince != 0 && now - _softSince > softSeconds * 1000L))
            {
                _overLimit = true;
                _items = [];
                _bytes = 0;
                return false;
            }

            _items.Add(message);
            _bytes = bytes;
            return true;
        }
    }

    /// <summary>Connection thread: everything queued, in order (empty when nothing is).</summary>
    public List<byte[]>? TakeAll()
    {
        lock (_gate)
        {
            if (_items.Count == 0)
            {
                return null;
            }

            var items = _items;
            _items = [];
            _bytes = 0;
            _softSince = 0;
            return items;
        }
    }
}
