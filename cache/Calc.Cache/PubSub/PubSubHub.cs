using Calc.Cache.Protocol;
using Calc.Cache.Storage;

namespace Calc.Cache.PubSub;

/// <summary>A connection that can receive messages: its queue, and how to wake its loop or close it.</summary>
internal interface ISubscriber
{
    /// <summary>2 or 3: how its messages are framed.</summary>
    int Protocol { get; }

    /// <summary>Any thread: delivers one framed message (or closes the subscriber at its output limit).</summary>
    void Deliver(byte[] message);
}

/// <summary>
/// Channels and patterns to subscribers, for every connection on every loop. One lock: PUBLISH, (UN)SUBSCRIBE and
/// PUBSUB hold it briefly; messages are framed once per protocol and handed to each subscriber's queue under it, so
/// two messages reach every subscriber in the order they were published.
/// </summary>
internal sealed class PubSubHub
{
    private readonly Lock _gate = new();
    private readonly Dictionary<byte[], HashSet<ISubscriber>> _channels = new(ByteArrayComparer.Instance);
    private readonly Dictionary<byte[], (Glob Glob, HashSet<ISubscriber> Subscribers)> _patterns = new(ByteArrayComparer.Instance);

    public void Subscribe(byte[] channel, ISubscriber subscriber)
    {
        lock (_gate)
        {
            if (!_channels.TryGetValue(channel, out var set))
            {
                _channels[channel] = set = [];
            }

            set.Add(subscriber);
        }
    }

    public void Unsubscribe(byte[] channel, ISubscriber subscriber)
    {
        lock (_gate)
        {
            if (_channels.TryGetValue(channel, out var set) && set.Remove(subscriber) && set.Count == 0)
            {
                _channels.Remove(channel);
            }
        }
    }

    public void PSubscribe(byte[] pattern, ISubscriber subscriber)
    {
        lock (_gate)
        {
            if (!_patterns.TryGetValue(pattern, out var entry))
            {
                _patterns[pattern] = entry = (Glob.Compile(pattern), []);
            }

            entry.Subscribers.Add(subscriber);
        }
    }

    public void PUnsubscribe(byte[] pattern, ISubscriber subscriber)
    {
        lock (_gate)
        {
            if (_patterns.TryGetValue(pattern, out var entry) && entry.Subscribers.Remove(subscriber) && entry.Subscribers.Count == 0)
            {
                _patterns.Remove(pattern);
            }
        }
    }

    /// <summary>Delivers to every subscriber of the channel and of every matching pattern; returns how many got it.</summary>
    public int Publish(byte[] channel, byte[] message)
    {
        lock (_gate)
        {
            var receivers = 0;
            byte[]?[] framed = new byte[4][]; // by protocol: [2], [3]
            if (_channels.TryGetValue(channel, out var set))
            {
                foreach (var subscriber in set)
                {
                    var p = subscriber.Protocol;
                    subscriber.Deliver(framed[p] ??= Frame(p, null, channel, message));
                    receivers++;
                }
            }

            foreach (var (pattern, (glob, subscribers)) in _patterns)
            {
                if (!glob.IsMatch(channel))
                {
                    continue;
                }

                byte[]?[] patternFramed = new byte[4][];
                foreach (var subscriber in subscribers)
                {
                    var p = subscriber.Protocol;
                    subscriber.Deliver(patternFramed[p] ??= Frame(p, pattern, channel, message));
                    receivers++;
                }
            }

            return receivers;
        }
    }

    /// <summary>Active channels (with at least one subscriber), optionally matching a pattern.</summary>
    public List<byte[]> Channels(byte[]? pattern)
    {
        var glob = pattern is null ? null : Glob.Compile(pattern);
        lock (_gate)
        {
            return [.. _channels.Keys.Where(c => glob is null || glob.IsMatch(c))];
        }
    }

    public int SubscriberCount(byte[] channel)
    {
        lock (_gate)
        {
            return _channels.TryGetValue(channel, out var set) ? set.Count : 0;
        }
    }

    /// <summary>Redis's PUBSUB NUMPAT: the number of patterns subscribed to (by anyone).</summary>
    public int PatternCount()
    {
        lock (_gate)
        {
            return _patterns.Count;
        }
    }

    /// <summary>A message in the subscriber's protocol: RESP2 array or RESP3 push of message/pmessage.</summary>
    private static byte[] Frame(int protocol, byte[]? pattern, byte[] channel, byte[] message)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(channel.Length + message.Length + 64);
        var writer = new RespWriter(buffer) { Protocol = protocol };
        writer.WritePushHeader(pattern is null ? 3 : 4);
        writer.WriteBulk(pattern is null ? "message"u8 : "pmessage"u8);
        if (pattern is not null)
        {
            writer.WriteBulk(pattern);
        }

        writer.WriteBulk(channel);
        writer.WriteBulk(message);
        return buffer.WrittenSpan.ToArray();
    }
}
