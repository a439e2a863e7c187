using Calc.Core.Scheduling;

namespace Calc.Core.Discovery;

/// <summary>Reports a <see cref="WorkScheduler"/>'s slots and the tasks holding them as the instance's load.</summary>
/// <param name="scheduler">The service's scheduler.</param>
public sealed class WorkSchedulerLoadReporter(WorkScheduler scheduler) : ILoadReporter
{
    /// <inheritdoc />
    public InstanceLoad Current()
    {
        var snapshot = scheduler.Snapshot();
        return new InstanceLoad(snapshot.Slots, snapshot.Processing);
    }
}
