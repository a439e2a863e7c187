namespace Calc.Core.Hosting;

/// <summary>Who this process is: the service it belongs to and its own instance id (unique per process start).</summary>
public sealed class ServiceIdentity
{
    /// <summary>Creates an identity; the instance id defaults to the service name plus a random suffix.</summary>
    public ServiceIdentity(string serviceName, string? instanceId = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(serviceName);
        ServiceName = serviceName;
        InstanceId = string.IsNullOrWhiteSpace(instanceId)
            ? $"{serviceName}-{Guid.NewGuid().ToString("N")[..8]}"
            : instanceId;
    }

    /// <summary>The service name, e.g. <c>calculations</c>.</summary>
    public string ServiceName { get; }

    /// <summary>This instance's id (<c>Service:InstanceId</c>, or generated).</summary>
    public string InstanceId { get; }
}
