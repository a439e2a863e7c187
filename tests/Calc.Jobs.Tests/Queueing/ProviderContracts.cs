using Calc.Jobs.Queueing;
using Calc.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Calc.Jobs.Tests.Queueing;

/// <summary>The queue contract on the embedded in-process queue (one instance shared by the "processes" of a test).</summary>
public sealed class InProcessJobQueueContract : JobQueueContract, IDisposable
{
    private InProcessJobQueue? _queue;

    // In-process, "another worker" is another consumer on the same queue object.
    protected override IJobQueue CreateQueue(QueueOptions options) =>
        _queue ??= new InProcessJobQueue(Microsoft.Extensions.Options.Options.Create(options), TimeProvider.System, NullLogger<InProcessJobQueue>.Instance);

    public void Dispose() => _queue?.Dispose();
}

/// <summary>The queue contract on RabbitMQ, against the real broker the assembly fixture started.</summary>
public sealed class RabbitMqJobQueueContract(RabbitMqServer broker) : JobQueueContract, IAsyncDisposable
{
    private readonly List<RabbitMqJobQueue> _queues = [];

    protected override IJobQueue CreateQueue(QueueOptions options)
    {
        options.Provider = QueueOptions.RabbitMq;
        options.ConnectionString = broker.ConnectionString;
        var queue = new RabbitMqJobQueue(Microsoft.Extensions.Options.Options.Create(options), NullLogger<RabbitMqJobQueue>.Instance);
        _queues.Add(queue);
        return queue;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var queue in _queues)
        {
            await queue.DisposeAsync();
        }
    }
}
