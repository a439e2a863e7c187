using Calc.Core.Scheduling;

namespace Calc.Jobs.Queueing;

/// <summary>
/// One delivery of a message to a consumer. Settle it exactly once: <see cref="AckAsync"/> when its work is done and
/// stored, <see cref="RetryAsync"/> to try again after a delay, <see cref="ParkAsync"/> to set a poison message aside,
/// or <see cref="ReleaseAsync"/> to hand it back untouched (e.g. on shutdown).
/// </summary>
public abstract class QueueDelivery
{
    private int _settled;

    /// <summary>Creates a delivery.</summary>
    /// <param name="queue">The queue it came from.</param>
    /// <param name="message">The message as published.</param>
    /// <param name="deliveryCount">1 for the first delivery; each retry or interrupted delivery adds 1.</param>
    /// <param name="maxDeliveries">After this many deliveries, <see cref="RetryAsync"/> parks the message instead.</param>
    /// <param name="retryDelay">How long <see cref="RetryAsync"/> waits before the next delivery.</param>
    protected QueueDelivery(string queue, QueueMessage message, int deliveryCount, int maxDeliveries, TimeSpan retryDelay)
    {
        ArgumentNullException.ThrowIfNull(message);
        Queue = queue;
        Message = message;
        DeliveryCount = deliveryCount;
        MaxDeliveries = maxDeliveries;
        RetryDelay = retryDelay;
    }

    /// <summary>The queue it came from.</summary>
    public string Queue { get; }

    /// <summary>The message as published.</summary>
    public QueueMessage Message { get; }

    /// <summary>The message's id.</summary>
    public string MessageId => Message.MessageId;

    /// <summary>The payload.</summary>
    public ReadOnlyMemory<byte> Body => Message.Body;

    /// <summary>The message's priority.</summary>
    public WorkPriority Priority => Message.Priority;

    /// <summary>1 for the first delivery; each retry and each delivery interrupted (consumer gone before settling) adds 1.</summary>
    public int DeliveryCount { get; }

    /// <summary>The configured limit (<see cref="QueueOptions.MaxDeliveries"/>).</summary>
    public int MaxDeliveries { get; }

    /// <summary>True when a retry would park the message instead: this is its last delivery.</summary>
    public bool IsLastDelivery => DeliveryCount >= MaxDeliveries;

    /// <summary>How long <see cref="RetryAsync"/> waits before delivering the message again (exponential backoff).</summary>
    public TimeSpan RetryDelay { get; }

    /// <summary>True once the delivery was settled.</summary>
    public bool IsSettled => Volatile.Read(ref _settled) == 1;

    /// <summary>Removes the message from the queue for good: call it only after the work's result is stored.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task AckAsync(CancellationToken cancellationToken = default) => SettleOnce(() => AckCoreAsync(cancellationToken));

    /// <summary>
    /// Delivers the message again after <see cref="RetryDelay"/>; on its last delivery (<see cref="IsLastDelivery"/>)
    /// parks it instead, so a failing message never loops.
    /// </summary>
    /// <param name="reason">Why it failed (kept with the message).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task RetryAsync(string reason, CancellationToken cancellationToken = default) => IsLastDelivery
        ? ParkAsync($"Gave up after {DeliveryCount} deliveries: {reason}", cancellationToken)
        : SettleOnce(() => RetryCoreAsync(reason, cancellationToken));

    /// <summary>Moves the message to the parking queue (<c>{queue}.parked</c>), where it is never delivered again.</summary>
    /// <param name="reason">Why (kept with the message).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task ParkAsync(string reason, CancellationToken cancellationToken = default) => SettleOnce(() => ParkCoreAsync(reason, cancellationToken));

    /// <summary>Hands the message back to the queue at once, without counting this delivery (e.g. the worker is stopping).</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task ReleaseAsync(CancellationToken cancellationToken = default) => SettleOnce(() => ReleaseCoreAsync(cancellationToken));

    /// <summary>Acknowledges the message.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    protected abstract Task AckCoreAsync(CancellationToken cancellationToken);

    /// <summary>Schedules the next delivery after <see cref="RetryDelay"/>, counting this one.</summary>
    /// <param name="reason">Why it failed.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    protected abstract Task RetryCoreAsync(string reason, CancellationToken cancellationToken);

    /// <summary>Moves the message to the parking queue.</summary>
    /// <param name="reason">Why.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    protected abstract Task ParkCoreAsync(string reason, CancellationToken cancellationToken);

    /// <summary>Puts the message back without counting this delivery.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    protected abstract Task ReleaseCoreAsync(CancellationToken cancellationToken);

    /// <summary>Runs <paramref name="settle"/> if the delivery was not settled yet; throws otherwise.</summary>
    /// <param name="settle">The provider's settlement.</param>
    protected Task SettleOnce(Func<Task> settle) => Interlocked.Exchange(ref _settled, 1) == 0
        ? (settle ?? throw new ArgumentNullException(nameof(settle)))()
        : throw new InvalidOperationException($"Delivery of message '{MessageId}' was settled already.");
}
