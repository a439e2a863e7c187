using System.ComponentModel.DataAnnotations;

namespace Calc.Core.Discovery;

/// <summary>Where and how often a service announces itself to the gateway (configuration section <c>Gateway</c>).</summary>
public sealed class GatewayRegistrationOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "Gateway";

    /// <summary>The gateway's base URL (<c>Gateway:Url</c>); when empty the service does not register anywhere.</summary>
    public Uri? Url { get; set; }

    /// <summary>Seconds between heartbeats (<c>Gateway:HeartbeatSeconds</c>); keep it well below the gateway's registry TTL.</summary>
    [Range(0.1, 3600)]
    public double HeartbeatSeconds { get; set; } = 3;

    /// <summary>Seconds one RPC call may take (<c>Gateway:TimeoutSeconds</c>).</summary>
    [Range(0.1, 60)]
    public double TimeoutSeconds { get; set; } = 2;
}
