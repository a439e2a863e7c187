namespace Calc.Jobs.Queueing;

/// <summary>
/// A durable job queue: publish with a priority, consume with manual settlement (ack, delayed retry, park), at most
/// <c>prefetch</c> unsettled deliveries per consumer. Delivery is at least once: a message whose consumer stops before
/// settling it is delivered again (counted in <see cref="QueueDelivery.DeliveryCount"/>), so handlers must be
/// idempotent. Providers: <c>inprocess</c> (<see cref="InProcessJobQueue"/>, the embedded default) and
/// <c>rabbitmq</c> (<see cref="RabbitMqJobQueue"/>), chosen by <see cref="QueueOptions.Provider"/>.
/// </summary>
/// <remarks>
/// Every queue name has two companions that the providers create on demand: <c>{queue}.retry.{ms}</c> (messages
/// waiting out a retry delay) and <c>{queue}.parked</c> (poison messages, kept for a person to look at, never
/// delivered again).
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711", Justification = "A message queue in the broker sense, not a collection: the name says what it is.")]
public interface IJobQueue
{
    /// <summary>
    /// Publishes a message and returns once the queue holds it durably (RabbitMQ: after the publisher confirm).
    /// Throws <see cref="QueueUnavailableException"/> when the queue cannot take it now; the caller then knows the
    /// message was not accepted.
    /// </summary>
    /// <param name="queue">The queue name (letters, digits, <c>.</c>, <c>-</c>, <c>_</c>).</param>
    /// <param name="message">The message.</param>
    /// <param name="cancellationToken">Cancels the wait (the message may still arrive).</param>
    Task PublishAsync(string queue, QueueMessage message, CancellationToken cancellationToken = default);

    /// <summary>
    /// Starts consuming <paramref name="queue"/>: <paramref name="handler"/> is called for each delivery, concurrently,
    /// with at most <paramref name="prefetch"/> deliveries unsettled at once. The handler must settle each delivery
    /// (<see cref="QueueDelivery.AckAsync"/> after its result is stored, or retry, park, release); one that throws
    /// or returns without settling is retried. Dispose the result to stop: unsettled deliveries go back to the queue.
    /// </summary>
    /// <param name="queue">The queue name.</param>
    /// <param name="prefetch">Unsettled deliveries at most (the worker's capacity), 1 or more.</param>
    /// <param name="handler">Handles one delivery.</param>
    /// <param name="cancellationToken">Cancels starting the consumer.</param>
    Task<IAsyncDisposable> ConsumeAsync(string queue, int prefetch, Func<QueueDelivery, Task> handler, CancellationToken cancellationToken = default);

    /// <summary>How many messages wait in <paramref name="queue"/> (ready, not delivered) and in its parking queue.</summary>
    /// <param name="queue">The queue name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task<QueueDepth> GetDepthAsync(string queue, CancellationToken cancellationToken = default);

    /// <summary>Throws <see cref="QueueUnavailableException"/> when the queue cannot be reached (for readiness checks).</summary>
    /// <param name="cancellationToken">Cancels the check.</param>
    Task CheckAsync(CancellationToken cancellationToken = default);
}
