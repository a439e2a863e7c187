namespace Calc.Core.Discovery;

/// <summary>
/// What a service reports about its own load: sent with every heartbeat to the gateway and in the
/// <see cref="InstanceLoad.HeaderName"/> header of every response, so the gateway can route by load.
/// A service registers one with <see cref="DiscoveryExtensions.AddLoadReporter{TReporter}"/>.
/// </summary>
public interface ILoadReporter
{
    /// <summary>The instance's capacity and what is processing now; called often, so it must be cheap.</summary>
    InstanceLoad Current();
}
