namespace Calc.LocalServers.Launch;

/// <summary>What the local launcher (<c>calc up</c>, the Aspire app host behind it) starts.</summary>
/// <param name="GatewayUrl">Where the gateway listens (the system's one public address).</param>
/// <param name="Profile"><c>embedded</c> (SQLite files, in-process job queue, nothing to install) or <c>full</c>
/// (throwaway PostgreSQL, Redis and RabbitMQ from the machine's binaries).</param>
/// <param name="DataDirectory">Where the embedded profile keeps its SQLite files.</param>
/// <param name="CalculationInstances">How many Calculations instances (they share one database).</param>
public sealed record SystemSettings(Uri GatewayUrl, string Profile, string DataDirectory, int CalculationInstances)
{
    /// <summary>The profile with nothing to install.</summary>
    public const string Embedded = "embedded";

    /// <summary>The profile on throwaway PostgreSQL, Redis and RabbitMQ.</summary>
    public const string Full = "full";

    /// <summary>The most Calculations instances one launcher starts.</summary>
    public const int MaxCalculationInstances = 16;

    /// <summary>True for the full profile.</summary>
    public bool IsFull => Profile == Full;

    /// <summary>The Calc dashboard, served by the gateway.</summary>
    public Uri DashboardUrl => new(GatewayUrl, "/dashboard/");

    /// <summary><c>scheme://host:port</c> of <paramref name="url"/> (what <c>--urls</c> takes).</summary>
    public static string Origin(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        return url.GetLeftPart(UriPartial.Authority);
    }
}
