using Calc.Cache.PubSub;
using Calc.Cache.Storage;

namespace Calc.Cache.Commands;

// Pub/sub: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH, PUBSUB CHANNELS/NUMSUB/NUMPAT. Messages from
// other loops arrive in this session's PushQueue and are written by its own thread (TakePushes) before its next
// batch, or when the transport is woken for them (WakeForPushes).
internal sealed partial class RespSession : ISubscriber
{
    private readonly HashSet<byte[]> _channels = new(ByteArrayComparer.Instance);
    private readonly HashSet<byte[]> _patterns = new(ByteArrayComparer.Instance);
    private readonly PushQueue _pushes = new();
    private int _publishingThread; // the managed thread id while this session runs its own PUBLISH, else 0

    /// <summary>Set by the connection handler: wakes the connection's thread to write queued messages; any thread.</summary>
    internal Action? WakeForPushes { get; set; }

    /// <summary>Set by the connection handler: closes the connection (output limit); any thread.</summary>
    internal Action? CloseForOutputLimit { get; set; }

    private int SubscriptionCount => _channels.Count + _patterns.Count;

    int ISubscriber.Protocol => _w.Protocol;

    /// <summary>Any thread: a published message for this connection.</summary>
    void ISubscriber.Deliver(byte[] message)
    {
        if (_publishingThread == Environment.CurrentManagedThreadId)
        {
            _w.WriteRaw(message); // our own PUBLISH on our own thread: in order, before its reply, as Redis
            return;
        }

        var options = _server.Options;
        if (!_pushes.Enqueue(message, options.PubSubHardLimit, options.PubSubSoftLimit, options.PubSubSoftSeconds, out var first))
        {
            CloseForOutputLimit?.Invoke();
            return;
        }

        if (first)
        {
            WakeForPushes?.Invoke();
        }
    }

    /// <summary>Connection thread: writes the messages queued by other loops; true if there were any.</summary>
    internal bool TakePushes()
    {
        var items = _pushes.TakeAll();
        if (items is null)
        {
            return false;
        }

        foreach (var item in items)
        {
            _w.WriteRaw(item);
        }

        return true;
    }

    /// <summary>RESP2 subscriber mode: the commands Redis still accepts while the connection has subscriptions.</summary>
    private static bool AllowedInSubscriberMode(CommandKind kind) => kind is CommandKind.Subscribe or CommandKind.Unsubscribe
        or CommandKind.PSubscribe or CommandKind.PUnsubscribe or CommandKind.Ping or CommandKind.Quit or CommandKind.Reset;

    private void Subscribe(bool pattern)
    {
        var set = pattern ? _patterns : _channels;
        for (var i = 1; i < _req.Count; i++)
        {
            var name = _req.ToArray(i);
            if (set.Add(name))
            {
                if (pattern)
                {
                    _server.PubSub.PSubscribe(name, this);
                }
                else
                {
                    _server.PubSub.Subscribe(name, this);
                }
            }

            WriteSubscription(pattern ? "psubscribe"u8 : "subscribe"u8, name);
        }
    }

    private void Unsubscribe(bool pattern)
    {
        var set = pattern ? _patterns : _channels;
        var kind = pattern ? "punsubscribe"u8 : "unsubscribe"u8;
        if (_req.Count == 1)
        {
            if (set.Count == 0)
            {
                WriteSubscription(kind, null);
                return;
            }

            foreach (var name in set.ToArray())
            {
                Leave(pattern, name);
                WriteSubscription(kind, name);
            }

            return;
        }

        for (var i = 1; i < _req.Count; i++)
        {
            var name = _req.ToArray(i);
            Leave(pattern, name);
            WriteSubscription(kind, name);
        }
    }

    private void Leave(bool pattern, byte[] name)
    {
        if (pattern ? _patterns.Remove(name) : _channels.Remove(name))
        {
            if (pattern)
            {
                _server.PubSub.PUnsubscribe(name, this);
            }
            else
            {
                _server.PubSub.Unsubscribe(name, this);
            }
        }
    }

    /// <summary>Every subscription ends (RESET, the connection's end).</summary>
    private void UnsubscribeAll()
    {
        foreach (var name in _channels)
        {
            _server.PubSub.Unsubscribe(name, this);
        }

        foreach (var name in _patterns)
        {
            _server.PubSub.PUnsubscribe(name, this);
        }

        _channels.Clear();
        _patterns.Clear();
        _pushes.TakeAll();
    }

    private void WriteSubscription(ReadOnlySpan<byte> kind, byte[]? name)
    {
        _w.WritePushHeader(3);
        _w.WriteBulk(kind);
        if (name is null)
        {
            _w.WriteNull();
        }
        else
        {
            _w.WriteBulk(name);
        }

        _w.WriteInteger(SubscriptionCount);
    }

    private void Publish()
    {
        _publishingThread = Environment.CurrentManagedThreadId;
        try
        {
            _w.WriteInteger(_server.PubSub.Publish(_req.ToArray(1), _req.ToArray(2)));
        }
        finally
        {
            _publishingThread = 0;
        }
    }

    private void PubSubCommand()
    {
        var hub = _server.PubSub;
        if (Is(1, "channels"u8) && _req.Count <= 3)
        {
            var channels = hub.Channels(_req.Count == 3 ? _req.ToArray(2) : null);
            _w.WriteArrayHeader(channels.Count);
            foreach (var channel in channels)
            {
                _w.WriteBulk(channel);
            }
        }
        else if (Is(1, "numsub"u8))
        {
            _w.WriteMapHeader(_req.Count - 2);
            for (var i = 2; i < _req.Count; i++)
            {
                _w.WriteBulk(_req[i]);
                _w.WriteInteger(hub.SubscriberCount(_req.ToArray(i)));
            }
        }
        else if (Is(1, "numpat"u8) && _req.Count == 2)
        {
            _w.WriteInteger(hub.PatternCount());
        }
        else if (Is(1, "help"u8))
        {
            WriteLines(
                "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "CHANNELS [<pattern>]",
                "    Return the currently active channels matching a <pattern> (default: '*').",
                "NUMPAT",
                "    Return number of subscriptions to patterns.",
                "NUMSUB [<channel> ...]",
                "    Return the number of subscribers for the specified channels, excluding",
                "    pattern subscriptions(default: no channels).",
                "HELP",
                "    Print this help.");
        }
        else
        {
            _w.WriteError($"ERR unknown subcommand '{Printable(_req.GetString(1))}'. Try PUBSUB HELP.");
        }
    }
}
