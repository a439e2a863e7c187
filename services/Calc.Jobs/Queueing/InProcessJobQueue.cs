using System.Collections.Concurrent;
using Calc.Core.Scheduling;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Calc.Jobs.Queueing;

/// <summary>
/// The embedded job queue (<c>Queue:Provider=inprocess</c>): queues in this process's memory with the same
/// behaviour as <see cref="RabbitMqJobQueue"/> (priorities, prefetch, delayed retries, parking), for a service that
/// runs its workers itself. Messages do not survive a restart: a service using it re-publishes its stored,
/// unfinished jobs when it starts.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711", Justification = "A message queue in the broker sense, not a collection: the name says what it is.")]
public sealed partial class InProcessJobQueue : IJobQueue, IDisposable
{
    private readonly ConcurrentDictionary<string, LocalQueue> _queues = new(StringComparer.Ordinal);
    private readonly QueueOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<InProcessJobQueue> _logger;
    private readonly CancellationTokenSource _disposed = new();
    private int _disposeCalls;

    /// <summary>Creates the queue.</summary>
    public InProcessJobQueue(IOptions<QueueOptions> options, TimeProvider time, ILogger<InProcessJobQueue> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _time = time;
        _logger = logger;
    }

    /// <inheritdoc />
    public Task PublishAsync(string queue, QueueMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        QueueOptions.CheckQueueName(queue);
        var (activity, traced) = QueueTracing.StartPublish("inprocess", queue, message);
        using (activity)
        {
            Get(queue).Enqueue(new Entry(traced with { Body = message.Body.ToArray() }, PriorDeliveries: 0));
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<IAsyncDisposable> ConsumeAsync(string queue, int prefetch, Func<QueueDelivery, Task> handler, CancellationToken cancellationToken = default)
    {
        QueueOptions.CheckQueueName(queue);
        ArgumentOutOfRangeException.ThrowIfLessThan(prefetch, 1);
        ArgumentNullException.ThrowIfNull(handler);
        var consumer = new Consumer(Get(queue), prefetch, handler);
        consumer.Queue.Add(consumer);
        return Task.FromResult<IAsyncDisposable>(consumer);
    }

    /// <inheritdoc />
    public Task<QueueDepth> GetDepthAsync(string queue, CancellationToken cancellationToken = default)
    {
        QueueOptions.CheckQueueName(queue);
        return Task.FromResult(Get(queue).Depth());
    }

    /// <inheritdoc />
    public Task CheckAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    /// <summary>The messages parked in <paramref name="queue"/>'s parking queue, with the reasons, oldest first.</summary>
    /// <param name="queue">The queue name.</param>
    public IReadOnlyList<(QueueMessage Message, string Reason)> Parked(string queue) => Get(queue).ParkedMessages();

    /// <inheritdoc />
    public void Dispose()
    {
        // Registered both as itself and as IJobQueue, so the container may dispose it twice.
        if (Interlocked.Exchange(ref _disposeCalls, 1) == 0)
        {
            _disposed.Cancel();
            _disposed.Dispose();
        }
    }

    private LocalQueue Get(string queue) => _queues.GetOrAdd(queue, name => new LocalQueue(name, this));

    [LoggerMessage(Level = LogLevel.Error, Message = "Handler for message {MessageId} from queue {Queue} failed unexpectedly")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception, string messageId, string queue);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message {MessageId} from queue {Queue} parked: {Reason}")]
    private static partial void LogParked(ILogger logger, string messageId, string queue, string reason);

    private sealed record Entry(QueueMessage Message, int PriorDeliveries);

    private sealed class LocalQueue(string name, InProcessJobQueue owner)
    {
        private readonly Lock _gate = new();
        // High before normal, then first in, first out.
        private readonly PriorityQueue<Entry, (int Priority, long Sequence)> _ready = new();
        private readonly List<(QueueMessage Message, string Reason)> _parked = [];
        private readonly List<Consumer> _consumers = [];
        private long _sequence;
        private int _nextConsumer;

        public string Name => name;

        public InProcessJobQueue Owner => owner;

        public void Enqueue(Entry entry)
        {
            lock (_gate)
            {
                _ready.Enqueue(entry, (entry.Message.Priority == WorkPriority.High ? 0 : 1, _sequence++));
            }

            Pump();
        }

        public void Park(Entry entry, string reason)
        {
            lock (_gate)
            {
                _parked.Add((entry.Message, reason));
            }

            LogParked(owner._logger, entry.Message.MessageId, name, reason);
        }

        public void Add(Consumer consumer)
        {
            lock (_gate)
            {
                _consumers.Add(consumer);
            }

            Pump();
        }

        public void Remove(Consumer consumer)
        {
            lock (_gate)
            {
                _consumers.Remove(consumer);
            }
        }

        public QueueDepth Depth()
        {
            lock (_gate)
            {
                return new QueueDepth(_ready.Count, _parked.Count);
            }
        }

        public IReadOnlyList<(QueueMessage Message, string Reason)> ParkedMessages()
        {
            lock (_gate)
            {
                return [.. _parked];
            }
        }

        // Hands ready messages to consumers with free prefetch, round robin; handlers run outside the lock.
        public void Pump()
        {
            var handOut = new List<(Consumer Consumer, LocalDelivery Delivery)>();
            lock (_gate)
            {
                while (_ready.Count > 0 && _consumers.Count > 0)
                {
                    Consumer? free = null;
                    for (var i = 0; i < _consumers.Count && free is null; i++)
                    {
                        var candidate = _consumers[(_nextConsumer + i) % _consumers.Count];
                        if (candidate.TryTakeCredit())
                        {
                            free = candidate;
                            _nextConsumer = (_nextConsumer + i + 1) % _consumers.Count;
                        }
                    }

                    if (free is null)
                    {
                        break;
                    }

                    var entry = _ready.Dequeue();
                    handOut.Add((free, new LocalDelivery(this, free, entry, owner._options)));
                }
            }

            foreach (var (consumer, delivery) in handOut)
            {
                consumer.Run(delivery);
            }
        }

        public void ScheduleRetry(Entry entry, TimeSpan delay)
        {
            CancellationToken token;
            try
            {
                token = owner._disposed.Token;
            }
            catch (ObjectDisposedException)
            {
                return; // The queue was disposed with the process: the message goes with it, as documented.
            }

            _ = Task.Run(async () =>
            {
                try
                {
                    await Task.Delay(delay, owner._time, token);
                    Enqueue(entry);
                }
                catch (OperationCanceledException)
                {
                    // The queue was disposed with the process: the message goes with it, as documented.
                }
            }, CancellationToken.None);
        }
    }

    private sealed class Consumer(LocalQueue queue, int prefetch, Func<QueueDelivery, Task> handler) : IAsyncDisposable
    {
        private readonly ConcurrentDictionary<LocalDelivery, byte> _unsettled = new();
        private int _credits = prefetch;
        private int _stopped;

        public LocalQueue Queue => queue;

        public bool TryTakeCredit()
        {
            if (Volatile.Read(ref _stopped) == 1)
            {
                return false;
            }

            var credits = Volatile.Read(ref _credits);
            while (credits > 0)
            {
                var seen = Interlocked.CompareExchange(ref _credits, credits - 1, credits);
                if (seen == credits)
                {
                    return true;
                }

                credits = seen;
            }

            return false;
        }

        public void Run(LocalDelivery delivery)
        {
            _unsettled[delivery] = 0;
            _ = Task.Run(async () =>
            {
                try
                {
                    using var activity = QueueTracing.StartProcess("inprocess", delivery);
                    await handler(delivery);
                    if (!delivery.IsSettled)
                    {
                        await delivery.RetryAsync("The handler returned without settling the delivery.");
                    }
                }
                catch (Exception exception)
                {
                    LogHandlerFailed(queue.Owner._logger, exception, delivery.MessageId, queue.Name);
                    if (!delivery.IsSettled)
                    {
                        await delivery.RetryAsync($"The handler failed: {exception.Message}");
                    }
                }
            });
        }

        /// <summary>Called once per delivery when it is settled (or abandoned on dispose): gives the credit back.</summary>
        public bool Settled(LocalDelivery delivery)
        {
            if (!_unsettled.TryRemove(delivery, out _))
            {
                return false; // Abandoned when the consumer stopped: the queue already has it back.
            }

            Interlocked.Increment(ref _credits);
            queue.Pump();
            return true;
        }

        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _stopped, 1) == 1)
            {
                return ValueTask.CompletedTask;
            }

            queue.Remove(this);
            // As a broker does for a closed channel: unsettled deliveries go back, counted as interrupted.
            foreach (var delivery in _unsettled.Keys)
            {
                if (_unsettled.TryRemove(delivery, out _))
                {
                    delivery.Interrupted();
                }
            }

            return ValueTask.CompletedTask;
        }
    }

    private sealed class LocalDelivery(LocalQueue queue, Consumer consumer, Entry entry, QueueOptions options)
        : QueueDelivery(queue.Name, entry.Message, entry.PriorDeliveries + 1, options.MaxDeliveries, options.RetryDelay(entry.PriorDeliveries + 1))
    {
        public void Interrupted()
        {
            var next = entry with { PriorDeliveries = DeliveryCount };
            if (next.PriorDeliveries >= MaxDeliveries)
            {
                queue.Park(next, $"Delivery was interrupted {DeliveryCount} times (the consumer stopped before settling it).");
            }
            else
            {
                queue.Enqueue(next);
            }
        }

        protected override Task AckCoreAsync(CancellationToken cancellationToken)
        {
            consumer.Settled(this);
            return Task.CompletedTask;
        }

        protected override Task RetryCoreAsync(string reason, CancellationToken cancellationToken)
        {
            if (consumer.Settled(this))
            {
                queue.ScheduleRetry(entry with { PriorDeliveries = DeliveryCount }, RetryDelay);
            }

            return Task.CompletedTask;
        }

        protected override Task ParkCoreAsync(string reason, CancellationToken cancellationToken)
        {
            if (consumer.Settled(this))
            {
                queue.Park(entry, reason);
            }

            return Task.CompletedTask;
        }

        protected override Task ReleaseCoreAsync(CancellationToken cancellationToken)
        {
            if (consumer.Settled(this))
            {
                queue.Enqueue(entry);
            }

            return Task.CompletedTask;
        }
    }
}
