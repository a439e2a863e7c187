using Xunit;

namespace Calc.Testing;

/// <summary>
/// A throwaway PostgreSQL server for one test run (see <see cref="ThrowawayPostgres"/>), or the server named by the
/// <c>CALC_TEST_POSTGRES</c> environment variable (a connection string) when it is set. Use it as an xunit.v3 assembly
/// fixture: <c>[assembly: AssemblyFixture(typeof(PostgresServer))]</c>, then take it in a test class constructor and
/// give each test class its own database with <see cref="ThrowawayPostgres.CreateDatabaseAsync"/>.
/// </summary>
public sealed class PostgresServer() : ThrowawayPostgres(Environment.GetEnvironmentVariable(ExternalServerVariable)), IAsyncLifetime
{
    /// <summary>Environment variable holding the connection string of an existing server to use instead.</summary>
    public const string ExternalServerVariable = "CALC_TEST_POSTGRES";
}
