using System.Diagnostics;
using Calc.Core.Hosting;

namespace Calc.Jobs.Queueing;

/// <summary>
/// One trace across the queue: publishing is a producer span whose context the message carries
/// (<see cref="QueueMessage.TraceParent"/>), and handling a delivery is a consumer span under it, in whichever
/// process consumes it. Retries and redeliveries keep the publisher's context.
/// </summary>
internal static class QueueTracing
{
    /// <summary>Publishing a job message and processing a delivery (a <c>Calc.*</c> source: the telemetry defaults listen to it).</summary>
    private static readonly ActivitySource Source = new("Calc.Queueing");

    /// <summary>Starts the producer span and stamps the message with its context (or with the current one when nobody listens).</summary>
    public static (Activity? Activity, QueueMessage Message) StartPublish(string system, string queue, QueueMessage message)
    {
        if (message.TraceParent is not null)
        {
            return (null, message); // a republication: it keeps the context it was first published with
        }

        var activity = Source.StartActivity(queue + " publish", ActivityKind.Producer);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("messaging.system", system);
            activity.SetTag("messaging.operation.type", "send");
            activity.SetTag("messaging.destination.name", queue);
            activity.SetTag("messaging.message.id", message.MessageId);
        }

        return (activity, message with { TraceParent = Telemetry.CurrentTraceParent(), TraceState = Activity.Current?.TraceStateString });
    }

    /// <summary>Starts the consumer span for one delivery, parented to the publisher's context.</summary>
    public static Activity? StartProcess(string system, QueueDelivery delivery)
    {
        var activity = Source.StartFrom(delivery.Queue + " process", ActivityKind.Consumer, delivery.Message.TraceParent, delivery.Message.TraceState);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("messaging.system", system);
            activity.SetTag("messaging.operation.type", "process");
            activity.SetTag("messaging.destination.name", delivery.Queue);
            activity.SetTag("messaging.message.id", delivery.MessageId);
            activity.SetTag("messaging.message.delivery_count", delivery.DeliveryCount);
        }

        return activity;
    }
}
