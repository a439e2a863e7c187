using Calc.Core.Scheduling;

namespace Calc.Jobs.Queueing;

/// <summary>A message to publish.</summary>
/// <param name="MessageId">The message's id (e.g. the job id): it appears in logs and in the parking queue.</param>
/// <param name="Body">The payload, opaque to the queue (usually JSON).</param>
/// <param name="Priority">High-priority messages are delivered before normal ones waiting in the same queue.</param>
public sealed record QueueMessage(string MessageId, ReadOnlyMemory<byte> Body, WorkPriority Priority = WorkPriority.Normal)
{
    /// <summary>
    /// The W3C <c>traceparent</c> of the publisher's span (set by the queue when publishing, unless given): the
    /// consumer's span continues that trace. It travels in the message's <c>traceparent</c> header on RabbitMQ.
    /// </summary>
    public string? TraceParent { get; init; }

    /// <summary>The W3C <c>tracestate</c> that goes with <see cref="TraceParent"/>, if any.</summary>
    public string? TraceState { get; init; }
}

/// <summary>How many messages wait in a queue.</summary>
/// <param name="Ready">Messages waiting for a consumer (not counting those delivered and unsettled, or waiting out a retry delay).</param>
/// <param name="Parked">Poison messages set aside in the parking queue.</param>
public sealed record QueueDepth(long Ready, long Parked);

/// <summary>The queue cannot be reached or did not accept a message; nothing was published.</summary>
public sealed class QueueUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public QueueUnavailableException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What failed.</param>
    public QueueUnavailableException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The cause.</param>
    public QueueUnavailableException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
