using System.ComponentModel.DataAnnotations;

namespace Calc.Jobs.Queueing;

/// <summary>
/// Which job queue a process uses and how it retries (configuration section <c>Queue</c>; environment form
/// <c>Queue__Provider</c>, <c>Queue__ConnectionString</c>).
/// </summary>
public sealed class QueueOptions : IValidatableObject
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "Queue";

    /// <summary>The embedded provider: queues in this process's memory (messages do not survive a restart).</summary>
    public const string InProcess = "inprocess";

    /// <summary>The RabbitMQ provider.</summary>
    public const string RabbitMq = "rabbitmq";

    /// <summary><c>inprocess</c> (default) or <c>rabbitmq</c>.</summary>
    public string Provider { get; set; } = InProcess;

    /// <summary>For <c>rabbitmq</c>: an AMQP URI, e.g. <c>amqp://guest:guest@127.0.0.1:5672/</c> (required).</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Deliveries of one message at most; a retry after the last one parks it (default 5).</summary>
    [Range(1, 1000)]
    public int MaxDeliveries { get; set; } = 5;

    /// <summary>Delay before the first retry; each further retry doubles it (default 1 s).</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest retry delay (default 5 min).</summary>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>For <c>rabbitmq</c>: how long to wait between reconnection attempts after the broker went away (default 2 s).</summary>
    public TimeSpan ReconnectInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The delay before the delivery after delivery number <paramref name="deliveryCount"/>: <see cref="RetryBaseDelay"/>
    /// doubled per earlier delivery, at most <see cref="RetryMaxDelay"/>, rounded to whole milliseconds. There is no
    /// jitter: RabbitMQ keeps one retry queue per distinct delay, and a bounded set of delays keeps that set small.
    /// </summary>
    /// <param name="deliveryCount">The delivery that failed, 1 or more.</param>
    public TimeSpan RetryDelay(int deliveryCount)
    {
        var exponent = Math.Clamp(deliveryCount - 1, 0, 30);
        var milliseconds = Math.Min(RetryBaseDelay.TotalMilliseconds * Math.Pow(2, exponent), RetryMaxDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(Math.Max(1, Math.Round(milliseconds)));
    }

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Provider is not (InProcess or RabbitMq))
        {
            yield return new ValidationResult($"Queue:Provider must be '{InProcess}' or '{RabbitMq}', not '{Provider}'.", [nameof(Provider)]);
        }

        if (Provider == RabbitMq && !Uri.TryCreate(ConnectionString, UriKind.Absolute, out _))
        {
            yield return new ValidationResult(
                "Queue:ConnectionString must be an AMQP URI such as amqp://guest:guest@127.0.0.1:5672/ when Queue:Provider is rabbitmq.",
                [nameof(ConnectionString)]);
        }

        if (RetryBaseDelay <= TimeSpan.Zero || RetryMaxDelay < RetryBaseDelay)
        {
            yield return new ValidationResult("Queue:RetryBaseDelay must be positive and at most Queue:RetryMaxDelay.", [nameof(RetryBaseDelay)]);
        }

        if (ReconnectInterval <= TimeSpan.Zero)
        {
            yield return new ValidationResult("Queue:ReconnectInterval must be positive.", [nameof(ReconnectInterval)]);
        }
    }

    internal static void CheckQueueName(string queue)
    {
        ArgumentException.ThrowIfNullOrEmpty(queue);
        if (queue.Length > 200 || !queue.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_'))
        {
            throw new ArgumentException($"Queue name '{queue}' must be 1-200 letters, digits, '.', '-' or '_'.", nameof(queue));
        }
    }
}
