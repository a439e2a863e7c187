namespace Calc.Gateway.Registry;

/// <summary>One instance as the registry stores it (JSON in the cache).</summary>
internal sealed record RegistryEntry(
    string Service,
    string InstanceId,
    Uri BaseUrl,
    int Capacity,
    int Processing,
    DateTimeOffset LastHeartbeat);
