using System.Buffers;

namespace Calc.Cache.Server;

/// <summary>
/// A connection feature of a transport that runs the request loop itself, on its own I/O thread, without pipes: it
/// receives into the connection's buffer, hands every chunk of input to an <see cref="IBatchProcessor"/> and sends
/// what the processor wrote to <see cref="Output"/>. The epoll transport offers it; a connection without it is
/// served through <c>ConnectionContext.Transport</c>'s pipes.
/// </summary>
internal interface IDirectConnectionFeature
{
    /// <summary>The connection's reply buffer. Write only before <see cref="RunAsync"/> or from inside <see cref="IBatchProcessor.Process"/>.</summary>
    IBufferWriter<byte> Output { get; }

    /// <summary>
    /// Serves the connection until it closes: the client hung up, the processor asked to close, or the connection
    /// was aborted. Null serves nothing: what <see cref="Output"/> holds is sent and the connection closed.
    /// The task fails with the processor's exception if it threw.
    /// </summary>
    Task RunAsync(IBatchProcessor? processor);

    /// <summary>Asks to close once the replies already written are sent (server shutdown); safe from any thread.</summary>
    void RequestClose();

    /// <summary>A blocked command has its answer (<see cref="BatchStatus.Blocked"/>): resume the connection; any thread.</summary>
    void WakeBlocked();

    /// <summary>Any thread: pub/sub messages are queued; the connection's thread calls <see cref="IBatchProcessor.WritePushes"/>.</summary>
    void RequestPush();
}

/// <summary>Turns received bytes into replies; called on the transport's thread, one call at a time per connection.</summary>
internal interface IBatchProcessor
{
    /// <summary>How long a client may leave its replies unread before it is disconnected.</summary>
    TimeSpan OutputTimeout { get; }

    /// <summary>
    /// Consumes complete requests from the start of <paramref name="input"/> (advancing it past them) and writes
    /// their replies. Everything written before the call has been handed to the socket or its buffer.
    /// </summary>
    BatchStatus Process(ref ReadOnlySequence<byte> input);

    /// <summary>After <see cref="IDirectConnectionFeature.WakeBlocked"/>: writes the blocked command's reply.</summary>
    void ResumeBlocked();

    /// <summary>The connection closed while blocked: the command stops waiting.</summary>
    void CancelBlocked();

    /// <summary>Writes the pub/sub messages queued for the connection (after <see cref="IDirectConnectionFeature.RequestPush"/>); true if any.</summary>
    bool WritePushes();
}

/// <summary>What the connection does after <see cref="IBatchProcessor.Process"/>.</summary>
internal enum BatchStatus
{
    /// <summary>The input holds no complete request: send the replies, receive more.</summary>
    NeedMoreInput,

    /// <summary>Enough replies are waiting: send them before processing the rest of the input.</summary>
    SendFirst,

    /// <summary>Send the replies, then close the connection (QUIT, protocol error).</summary>
    Close,

    /// <summary>
    /// The last command blocks (BLPOP with every key empty): send the replies, then run nothing more, and read nothing
    /// more, until the connection is woken (<see cref="IDirectConnectionFeature.WakeBlocked"/>) or closes.
    /// </summary>
    Blocked,
}
