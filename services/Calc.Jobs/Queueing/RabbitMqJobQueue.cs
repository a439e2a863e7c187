using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Calc.Core.Scheduling;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace Calc.Jobs.Queueing;

/// <summary>
/// The job queue on RabbitMQ (<c>Queue:Provider=rabbitmq</c>, RabbitMQ.Client's async API). Topology per queue name,
/// declared on first use (durable, so it survives a broker restart):
/// <list type="bullet">
/// <item><c>{queue}</c>: a classic queue with <c>x-max-priority</c> 1, so high-priority messages overtake normal ones.</item>
/// <item><c>{queue}.retry.{ms}</c>: one per retry delay, with <c>x-message-ttl</c> = the delay and the default exchange
/// as dead-letter target routed back to <c>{queue}</c>: a retried message waits there, expires, and returns. One
/// queue per delay avoids per-message TTLs, which expire only at the head of a queue.</item>
/// <item><c>{queue}.parked</c>: poison messages, with the reason in the <c>x-calc-parked-reason</c> header.</item>
/// </list>
/// Messages are persistent and published with publisher confirms (and <c>mandatory</c>, so an unroutable message is an
/// error, not a silent drop). Consumers ack manually; the delivery count travels in the <c>x-calc-deliveries</c> header.
/// A redelivered message (its consumer went away before settling it: a crashed worker) is re-published with the count
/// raised before it is handled, so a message that kills every worker is parked after
/// <see cref="QueueOptions.MaxDeliveries"/> instead of looping. The connection recovers on its own after the broker
/// restarts, consumers included.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711", Justification = "A message queue in the broker sense, not a collection: the name says what it is.")]
public sealed partial class RabbitMqJobQueue : IJobQueue, IAsyncDisposable
{
    /// <summary>Header holding how many deliveries the message had before this publication.</summary>
    public const string DeliveriesHeader = "x-calc-deliveries";

    /// <summary>Header holding why a message was parked or last retried.</summary>
    public const string ReasonHeader = "x-calc-parked-reason";

    /// <summary>Header holding the publisher's W3C trace context (<see cref="QueueMessage.TraceParent"/>).</summary>
    public const string TraceParentHeader = "traceparent";

    /// <summary>Header holding the publisher's W3C <c>tracestate</c>.</summary>
    public const string TraceStateHeader = "tracestate";

    private const int MaxReasonLength = 1000;

    private readonly QueueOptions _options;
    private readonly ILogger<RabbitMqJobQueue> _logger;
    private readonly SemaphoreSlim _connectGate = new(1, 1);
    private readonly ConcurrentDictionary<string, bool> _declared = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Consumer, bool> _consumers = new();
    private IConnection? _connection;
    private IChannel? _publisher;
    private bool _disposed;

    /// <summary>Creates the queue; it connects on first use.</summary>
    public RabbitMqJobQueue(IOptions<QueueOptions> options, ILogger<RabbitMqJobQueue> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _logger = logger;
    }

    /// <inheritdoc />
    public async Task PublishAsync(string queue, QueueMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        QueueOptions.CheckQueueName(queue);
        var (activity, traced) = QueueTracing.StartPublish("rabbitmq", queue, message);
        using (activity)
        {
            await PublishRawAsync(queue, traced, priorDeliveries: 0, reason: null, cancellationToken);
        }
    }

    /// <inheritdoc />
    public async Task<IAsyncDisposable> ConsumeAsync(string queue, int prefetch, Func<QueueDelivery, Task> handler, CancellationToken cancellationToken = default)
    {
        QueueOptions.CheckQueueName(queue);
        ArgumentOutOfRangeException.ThrowIfLessThan(prefetch, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefetch, ushort.MaxValue);
        ArgumentNullException.ThrowIfNull(handler);
        return await Guard(async () =>
        {
            var connection = await ConnectAsync(cancellationToken);
            await DeclareAsync(queue, cancellationToken);
            var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
            try
            {
                await channel.BasicQosAsync(0, (ushort)prefetch, global: false, cancellationToken);
                var consumer = new Consumer(this, channel, queue, handler);
                await consumer.StartAsync(cancellationToken);
                return (IAsyncDisposable)consumer;
            }
            catch
            {
                await channel.DisposeAsync();
                throw;
            }
        }, $"consume from queue '{queue}'");
    }

    /// <inheritdoc />
    public async Task<QueueDepth> GetDepthAsync(string queue, CancellationToken cancellationToken = default)
    {
        QueueOptions.CheckQueueName(queue);
        return await Guard(async () =>
        {
            await DeclareAsync(queue, cancellationToken);
            var connection = await ConnectAsync(cancellationToken);
            await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
            var ready = await channel.QueueDeclarePassiveAsync(queue, cancellationToken);
            var parked = await channel.QueueDeclarePassiveAsync(ParkedQueue(queue), cancellationToken);
            return new QueueDepth(ready.MessageCount, parked.MessageCount);
        }, $"read the depth of queue '{queue}'");
    }

    /// <inheritdoc />
    public async Task CheckAsync(CancellationToken cancellationToken = default)
    {
        var connection = await Guard(() => ConnectAsync(cancellationToken), "connect");
        if (!connection.IsOpen)
        {
            throw new QueueUnavailableException($"The connection to RabbitMQ is closed ({connection.CloseReason?.ReplyText}); it is being recovered.");
        }

        // A channel closed by a channel-level error is not recovered with the connection: its consumer would stay
        // silent while the process looks healthy, so readiness fails instead and the process gets restarted.
        foreach (var consumer in _consumers.Keys)
        {
            if (consumer.IsClosed)
            {
                throw new QueueUnavailableException($"The consumer of queue '{consumer.Queue}' was closed by the broker ({consumer.CloseReason}).");
            }
        }
    }

    /// <summary>The parking queue's name for <paramref name="queue"/>.</summary>
    /// <param name="queue">The queue name.</param>
    public static string ParkedQueue(string queue) => queue + ".parked";

    /// <summary>The retry queue's name for <paramref name="queue"/> and a delay.</summary>
    /// <param name="queue">The queue name.</param>
    /// <param name="delay">The retry delay.</param>
    public static string RetryQueue(string queue, TimeSpan delay) =>
        string.Create(CultureInfo.InvariantCulture, $"{queue}.retry.{(long)delay.TotalMilliseconds}");

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _connectGate.WaitAsync();
        try
        {
            // Registered both as itself and as IJobQueue, so the container may dispose it twice.
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            if (_publisher is not null)
            {
                await _publisher.DisposeAsync();
            }

            if (_connection is not null)
            {
                await _connection.DisposeAsync();
            }
        }
        finally
        {
            _connectGate.Release();
        }
    }

    private async Task<IConnection> ConnectAsync(CancellationToken cancellationToken)
    {
        if (_connection is { } existing)
        {
            return existing;
        }

        await _connectGate.WaitAsync(cancellationToken);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_connection is null)
            {
                var factory = new ConnectionFactory
                {
                    Uri = new Uri(_options.ConnectionString!),
                    AutomaticRecoveryEnabled = true,
                    TopologyRecoveryEnabled = true,
                    NetworkRecoveryInterval = _options.ReconnectInterval,
                    RequestedConnectionTimeout = TimeSpan.FromSeconds(10),
                    ClientProvidedName = $"calc:{AppDomain.CurrentDomain.FriendlyName}:{Environment.ProcessId}",
                };
                _connection = await factory.CreateConnectionAsync(cancellationToken);
                LogConnected(_logger, _connection.Endpoint.ToString());
            }

            return _connection;
        }
        finally
        {
            _connectGate.Release();
        }
    }

    private async Task<IChannel> PublisherAsync(CancellationToken cancellationToken)
    {
        if (_publisher is { IsOpen: true } open)
        {
            return open;
        }

        var connection = await ConnectAsync(cancellationToken);
        await _connectGate.WaitAsync(cancellationToken);
        try
        {
            // A channel closed by a channel-level error (not a lost connection, which recovery repairs) is replaced.
            if (_publisher is null || (_publisher.IsClosed && connection.IsOpen))
            {
                if (_publisher is not null)
                {
                    await _publisher.DisposeAsync();
                }

                _publisher = await connection.CreateChannelAsync(
                    new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true),
                    cancellationToken);
            }

            return _publisher;
        }
        finally
        {
            _connectGate.Release();
        }
    }

    private async Task DeclareAsync(string queue, CancellationToken cancellationToken)
    {
        if (_declared.ContainsKey(queue))
        {
            return;
        }

        var channel = await PublisherAsync(cancellationToken);
        await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false,
            arguments: new Dictionary<string, object?> { ["x-max-priority"] = (byte)1 }, cancellationToken: cancellationToken);
        await channel.QueueDeclareAsync(ParkedQueue(queue), durable: true, exclusive: false, autoDelete: false, cancellationToken: cancellationToken);
        _declared[queue] = true;
    }

    private async Task<string> DeclareRetryAsync(string queue, TimeSpan delay, CancellationToken cancellationToken)
    {
        var name = RetryQueue(queue, delay);
        if (_declared.ContainsKey(name))
        {
            return name;
        }

        var channel = await PublisherAsync(cancellationToken);
        await channel.QueueDeclareAsync(name, durable: true, exclusive: false, autoDelete: false,
            arguments: new Dictionary<string, object?>
            {
                ["x-message-ttl"] = (long)delay.TotalMilliseconds,
                ["x-dead-letter-exchange"] = "",
                ["x-dead-letter-routing-key"] = queue,
            },
            cancellationToken: cancellationToken);
        _declared[name] = true;
        return name;
    }

    private async Task PublishRawAsync(string routingKey, QueueMessage message, int priorDeliveries, string? reason, CancellationToken cancellationToken, string? declareFor = null)
    {
        await Guard(async () =>
        {
            await DeclareAsync(declareFor ?? routingKey, cancellationToken);
            var channel = await PublisherAsync(cancellationToken);
            var headers = new Dictionary<string, object?> { [DeliveriesHeader] = priorDeliveries };
            if (reason is not null)
            {
                headers[ReasonHeader] = Encoding.UTF8.GetBytes(reason.Length > MaxReasonLength ? reason[..MaxReasonLength] : reason);
            }

            if (message.TraceParent is not null)
            {
                headers[TraceParentHeader] = Encoding.ASCII.GetBytes(message.TraceParent);
                if (!string.IsNullOrEmpty(message.TraceState))
                {
                    headers[TraceStateHeader] = Encoding.ASCII.GetBytes(message.TraceState);
                }
            }

            var properties = new BasicProperties
            {
                MessageId = message.MessageId,
                Persistent = true,
                Priority = message.Priority == WorkPriority.High ? (byte)1 : (byte)0,
                ContentType = "application/json",
                Headers = headers,
            };
            // Awaits the broker's confirm (the channel tracks confirmations); a nack or a return throws PublishException.
            await channel.BasicPublishAsync(exchange: "", routingKey, mandatory: true, properties, message.Body, cancellationToken);
            return true;
        }, $"publish message '{message.MessageId}' to '{routingKey}'");
    }

    // Broker and connection failures become QueueUnavailableException, so callers handle one exception type.
    private static async Task<T> Guard<T>(Func<Task<T>> action, string what)
    {
        try
        {
            return await action();
        }
        catch (Exception exception) when (exception is BrokerUnreachableException or AlreadyClosedException or OperationInterruptedException
            or PublishException or ConnectFailureException or IOException or System.Net.Sockets.SocketException
            or ObjectDisposedException)
        {
            throw new QueueUnavailableException($"RabbitMQ could not {what}: {exception.Message}", exception);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Connected to RabbitMQ at {Endpoint}")]
    private static partial void LogConnected(ILogger logger, string endpoint);

    [LoggerMessage(Level = LogLevel.Error, Message = "Handler for message {MessageId} from queue {Queue} failed unexpectedly")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception, string messageId, string queue);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message {MessageId} from queue {Queue} parked: {Reason}")]
    private static partial void LogParked(ILogger logger, string messageId, string queue, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not settle message {MessageId} from queue {Queue}; the broker will deliver it again")]
    private static partial void LogSettleFailed(ILogger logger, Exception exception, string messageId, string queue);

    private static string? ReadText(IReadOnlyBasicProperties properties, string header) =>
        properties.Headers is not null && properties.Headers.TryGetValue(header, out var value)
            ? value switch
            {
                byte[] bytes => Encoding.ASCII.GetString(bytes),
                string text => text,
                _ => null,
            }
            : null;

    private static int ReadDeliveries(IReadOnlyBasicProperties properties)
    {
        if (properties.Headers is null || !properties.Headers.TryGetValue(DeliveriesHeader, out var value) || value is null)
        {
            return 0;
        }

        return value switch
        {
            int i => i,
            long l => (int)Math.Clamp(l, 0, int.MaxValue),
            byte[] bytes when int.TryParse(Encoding.UTF8.GetString(bytes), NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) => parsed,
            _ => Convert.ToInt32(value, CultureInfo.InvariantCulture),
        };
    }

    private sealed class Consumer(RabbitMqJobQueue owner, IChannel channel, string queue, Func<QueueDelivery, Task> handler) : IAsyncDisposable
    {
        // Acks and nacks of one channel go out one at a time.
        private readonly SemaphoreSlim _settleGate = new(1, 1);
        private string? _tag;

        public async Task StartAsync(CancellationToken cancellationToken)
        {
            var consumer = new AsyncEventingBasicConsumer(channel);
            consumer.ReceivedAsync += OnReceivedAsync;
            _tag = await channel.BasicConsumeAsync(queue, autoAck: false, consumer, cancellationToken);
            owner._consumers[this] = true;
        }

        public bool IsClosed => channel.IsClosed;

        public string? CloseReason => channel.CloseReason?.ReplyText;

        public async ValueTask DisposeAsync()
        {
            owner._consumers.TryRemove(this, out _);
            try
            {
                if (_tag is not null && channel.IsOpen)
                {
                    await channel.BasicCancelAsync(_tag);
                }
            }
            catch (Exception exception) when (exception is AlreadyClosedException or OperationInterruptedException)
            {
                // The channel went away already; its deliveries go back to the queue either way.
            }

            // Closing the channel hands every unsettled delivery back to the broker.
            await channel.DisposeAsync();
        }

        private Task OnReceivedAsync(object sender, BasicDeliverEventArgs args)
        {
            // The body's memory belongs to the client only during this callback: copy it.
            var message = new QueueMessage(
                args.BasicProperties.MessageId ?? $"tag-{args.DeliveryTag}",
                args.Body.ToArray(),
                args.BasicProperties.Priority >= 1 ? WorkPriority.High : WorkPriority.Normal)
            {
                TraceParent = ReadText(args.BasicProperties, TraceParentHeader),
                TraceState = ReadText(args.BasicProperties, TraceStateHeader),
            };
            var prior = ReadDeliveries(args.BasicProperties);
            var delivery = new Delivery(this, message, args.DeliveryTag, prior, owner._options);
            // Return at once: the client dispatches one callback at a time per channel, and handlers run concurrently.
            _ = Task.Run(() => RunAsync(delivery, args.Redelivered));
            return Task.CompletedTask;
        }

        private async Task RunAsync(Delivery delivery, bool redelivered)
        {
            try
            {
                if (redelivered)
                {
                    // The consumer it went to stopped before settling it: count that delivery by publishing anew.
                    await delivery.RecountInterruptedAsync();
                    return;
                }

                using var activity = QueueTracing.StartProcess("rabbitmq", delivery);
                await handler(delivery);
                if (!delivery.IsSettled)
                {
                    await delivery.RetryAsync("The handler returned without settling the delivery.");
                }
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                if (exception is not QueueUnavailableException)
                {
                    LogHandlerFailed(owner._logger, exception, delivery.MessageId, queue);
                }

                if (!delivery.IsSettled)
                {
                    try
                    {
                        await delivery.RetryAsync($"The handler failed: {exception.Message}");
                    }
                    catch (Exception settle) when (settle is QueueUnavailableException or AlreadyClosedException or OperationInterruptedException)
                    {
                        LogSettleFailed(owner._logger, settle, delivery.MessageId, queue);
                    }
                }
            }
        }

        public async Task AckAsync(ulong tag, CancellationToken cancellationToken)
        {
            await _settleGate.WaitAsync(cancellationToken);
            try
            {
                // After a connection recovery, a tag from before it is dropped by the client: the broker has already
                // put that message back and delivers it again, which the handler's idempotence absorbs.
                await Guard(async () =>
                {
                    await channel.BasicAckAsync(tag, multiple: false, cancellationToken);
                    return true;
                }, "acknowledge a delivery");
            }
            finally
            {
                _settleGate.Release();
            }
        }

        // Retry, park and release publish the message again (confirmed) and only then ack this delivery: a crash in
        // between leaves a duplicate, never a loss.
        public async Task RepublishAsync(Delivery delivery, string routingKey, int priorDeliveries, string? reason, CancellationToken cancellationToken)
        {
            await owner.PublishRawAsync(routingKey, delivery.Message, priorDeliveries, reason, cancellationToken, declareFor: queue);
            await AckAsync(delivery.Tag, cancellationToken);
        }

        public async Task RetryAsync(Delivery delivery, string reason, CancellationToken cancellationToken)
        {
            var retryQueue = await Guard(() => owner.DeclareRetryAsync(queue, delivery.RetryDelay, cancellationToken), "declare a retry queue");
            await RepublishAsync(delivery, retryQueue, delivery.DeliveryCount, reason, cancellationToken);
        }

        public async Task ParkAsync(Delivery delivery, string reason, CancellationToken cancellationToken)
        {
            await RepublishAsync(delivery, ParkedQueue(queue), delivery.DeliveryCount, reason, cancellationToken);
            LogParked(owner._logger, delivery.MessageId, queue, reason);
        }

        public string Queue => queue;
    }

    private sealed class Delivery(Consumer consumer, QueueMessage message, ulong tag, int priorDeliveries, QueueOptions options)
        : QueueDelivery(consumer.Queue, message, priorDeliveries + 1, options.MaxDeliveries, options.RetryDelay(priorDeliveries + 1))
    {
        public ulong Tag => tag;

        public Task RecountInterruptedAsync() => IsLastDelivery
            ? ParkAsync($"Gave up after {DeliveryCount} deliveries: the last one was interrupted (its consumer stopped before settling it).")
            : SettleOnce(() => consumer.RepublishAsync(this, consumer.Queue, priorDeliveries + 1, reason: null, CancellationToken.None));

        protected override Task AckCoreAsync(CancellationToken cancellationToken) => consumer.AckAsync(tag, cancellationToken);

        protected override Task RetryCoreAsync(string reason, CancellationToken cancellationToken) => consumer.RetryAsync(this, reason, cancellationToken);

        protected override Task ParkCoreAsync(string reason, CancellationToken cancellationToken) => consumer.ParkAsync(this, reason, cancellationToken);

        protected override Task ReleaseCoreAsync(CancellationToken cancellationToken) =>
            consumer.RepublishAsync(this, consumer.Queue, priorDeliveries, reason: null, cancellationToken);
    }
}
