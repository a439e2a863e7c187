using System.Diagnostics;

namespace Calc.Gateway;

/// <summary>
/// The gateway's own spans. Forwards through Kestrel are traced by ASP.NET Core and HttpClient; forwards on the fast
/// lane, which neither sees, are spans of this source (FastLane/FastLaneTracing.cs).
/// </summary>
internal static class GatewayTelemetry
{
    public const string Name = "Calc.Gateway";

    public const string FastLaneForward = "fastlane forward";

    public static readonly ActivitySource Source = new(Name);
}
