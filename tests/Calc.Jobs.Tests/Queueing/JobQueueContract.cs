using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Calc.Core.Scheduling;
using Calc.Jobs.Queueing;
using Calc.Testing;

namespace Calc.Jobs.Tests.Queueing;

/// <summary>
/// What every <see cref="IJobQueue"/> provider does, held to the same tests: each provider closes this class over its
/// own queue (the in-process one, and RabbitMQ on a real broker). Every test uses a queue name of its own.
/// </summary>
public abstract class JobQueueContract
{
    protected static QueueOptions Options(int maxDeliveries = 5) => new()
    {
        MaxDeliveries = maxDeliveries,
        RetryBaseDelay = TimeSpan.FromMilliseconds(200),
        RetryMaxDelay = TimeSpan.FromSeconds(2),
        ReconnectInterval = TimeSpan.FromMilliseconds(500),
    };

    /// <summary>A new queue client of the provider under test.</summary>
    protected abstract IJobQueue CreateQueue(QueueOptions options);

    protected static string NewQueueName() => Calc.Testing.RabbitMqServer.UniqueName("contract");

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static QueueMessage Message(string id, WorkPriority priority = WorkPriority.Normal) =>
        new(id, Encoding.UTF8.GetBytes($"{{\"id\":\"{id}\"}}"), priority);

    [Fact]
    public async Task A_published_message_is_delivered_once_with_its_id_body_and_priority_and_gone_after_ack()
    {
        var queue = CreateQueue(Options());
        var name = NewQueueName();
        await queue.PublishAsync(name, Message("m1", WorkPriority.High), Token);

        var received = new ConcurrentQueue<(string Id, string Body, WorkPriority Priority, int Count)>();
        await using (await queue.ConsumeAsync(name, 1, async d =>
        {
            received.Enqueue((d.MessageId, Encoding.UTF8.GetString(d.Body.Span), d.Priority, d.DeliveryCount));
            await d.AckAsync(Token);
        }, Token))
        {
            await WaitUntilAsync(() => !received.IsEmpty);
            await Task.Delay(300, Token);
        }

        received.ShouldHaveSingleItem().ShouldBe(("m1", "{\"id\":\"m1\"}", WorkPriority.High, 1));
        (await queue.GetDepthAsync(name, Token)).ShouldBe(new QueueDepth(0, 0));
    }

    [Fact]
    public async Task High_priority_messages_are_delivered_before_normal_ones_waiting_in_the_same_queue()
    {
        var queue = CreateQueue(Options());
        var name = NewQueueName();
        await queue.PublishAsync(name, Message("n1"), Token);
        await queue.PublishAsync(name, Message("n2"), Token);
        await queue.PublishAsync(name, Message("h1", WorkPriority.High), Token);
        await queue.PublishAsync(name, Message("n3"), Token);

        var order = new ConcurrentQueue<string>();
        await using (await queue.ConsumeAsync(name, 1, async d =>
        {
            order.Enqueue(d.MessageId);
            await d.AckAsync(Token);
        }, Token))
        {
            await WaitUntilAsync(() => order.Count == 4);
        }

        order.ShouldBe(["h1", "n1", "n2", "n3"]);
    }

    [Fact]
    public async Task Prefetch_bounds_the_unsettled_deliveries_a_consumer_holds()
    {
        var queue = CreateQueue(Options());
        var name = NewQueueName();
        for (var i = 0; i < 5; i++)
        {
            await queue.PublishAsync(name, Message($"m{i}"), Token);
        }

        var held = new ConcurrentQueue<QueueDelivery>();
        using var end = CancellationTokenSource.CreateLinkedTokenSource(Token);
        await using (await queue.ConsumeAsync(name, 2, d =>
        {
            held.Enqueue(d);
            return Task.Delay(Timeout.Infinite, end.Token);
        }, Token))
        {
            await WaitUntilAsync(() => held.Count == 2);
            await Task.Delay(500, Token);
            held.Count.ShouldBe(2);

            foreach (var delivery in held.ToArray())
            {
                await delivery.AckAsync(Token);
            }

            await WaitUntilAsync(() => held.Count == 4);
        }

        await end.CancelAsync();
    }

    [Fact]
    public async Task A_retried_message_comes_back_after_the_retry_delay_with_its_delivery_count_raised()
    {
        var queue = CreateQueue(Options());
        var name = NewQueueName();
        await queue.PublishAsync(name, Message("m1"), Token);

        var deliveries = new ConcurrentQueue<(int Count, TimeSpan At)>();
        var clock = Stopwatch.StartNew();
        await using (await queue.ConsumeAsync(name, 1, async d =>
        {
            deliveries.Enqueue((d.DeliveryCount, clock.Elapsed));
            if (d.DeliveryCount == 1)
            {
                d.RetryDelay.ShouldBe(TimeSpan.FromMilliseconds(200));
                await d.RetryAsync("try again", Token);
            }
            else
            {
                await d.AckAsync(Token);
            }
        }, Token))
        {
            await WaitUntilAsync(() => deliveries.Count == 2);
        }

        var (first, second) = (deliveries.ElementAt(0), deliveries.ElementAt(1));
        (first.Count, second.Count).ShouldBe((1, 2));
        (second.At - first.At).ShouldBeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(150));
    }

    [Fact]
    public async Task A_message_that_keeps_failing_is_parked_after_the_last_delivery_and_not_delivered_again()
    {
        var queue = CreateQueue(Options(maxDeliveries: 3));
        var name = NewQueueName();
        await queue.PublishAsync(name, Message("poison"), Token);

        var counts = new ConcurrentQueue<int>();
        await using (await queue.ConsumeAsync(name, 1, d =>
        {
            counts.Enqueue(d.DeliveryCount);
            throw new InvalidOperationException("This message always fails.");
        }, Token))
        {
            await WaitUntilAsync(async () => (await queue.GetDepthAsync(name, Token)).Parked == 1, TimeSpan.FromSeconds(20));
            await Task.Delay(1000, Token);
        }

        counts.ShouldBe([1, 2, 3]);
        (await queue.GetDepthAsync(name, Token)).ShouldBe(new QueueDepth(0, 1));
    }

    [Fact]
    public async Task Deliveries_left_unsettled_when_a_consumer_stops_go_to_the_next_consumer_counted()
    {
        var queue = CreateQueue(Options());
        var name = NewQueueName();
        await queue.PublishAsync(name, Message("m1"), Token);

        var first = new TaskCompletionSource<QueueDelivery>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var end = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var consumer = await queue.ConsumeAsync(name, 1, d =>
        {
            first.TrySetResult(d);
            return Task.Delay(Timeout.Infinite, end.Token);
        }, Token);
        (await first.Task.WaitAsync(TimeSpan.FromSeconds(10), Token)).DeliveryCount.ShouldBe(1);
        await consumer.DisposeAsync();

        // A second client, as another worker process would be.
        var other = CreateQueue(Options());
        var again = new TaskCompletionSource<QueueDelivery>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using (await other.ConsumeAsync(name, 1, async d =>
        {
            again.TrySetResult(d);
            await d.AckAsync(Token);
        }, Token))
        {
            var delivery = await again.Task.WaitAsync(TimeSpan.FromSeconds(10), Token);
            (delivery.MessageId, delivery.DeliveryCount).ShouldBe(("m1", 2));
        }

        await end.CancelAsync();
    }

    protected static Task WaitUntilAsync(Func<bool> condition, TimeSpan? limit = null) =>
        WaitUntilAsync(() => Task.FromResult(condition()), limit);

    protected static Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan? limit = null) =>
        Eventually.TrueAsync(condition, limit ?? TimeSpan.FromSeconds(10), "the queue to reach the state the test waits for",
            every: TimeSpan.FromMilliseconds(20), cancellationToken: Token);
}
