namespace Calc.Cli.Up;

/// <summary>What <c>calc up</c> starts.</summary>
/// <param name="GatewayUrl">Where the gateway listens (the system's one public address).</param>
/// <param name="Profile"><c>embedded</c> (SQLite files, in-process job queue, nothing to install) or <c>full</c>
/// (throwaway PostgreSQL, Redis and RabbitMQ from the machine's binaries).</param>
/// <param name="DataDirectory">Where the embedded profile keeps its SQLite files.</param>
/// <param name="CalculationInstances">How many Calculations instances (they share one database).</param>
internal sealed record UpSettings(Uri GatewayUrl, string Profile, string DataDirectory, int CalculationInstances)
{
    public const string Embedded = "embedded";
    public const string Full = "full";

    public bool IsFull => Profile == Full;

    public Uri DashboardUrl => new(GatewayUrl, "/dashboard/");
}
