using Xunit;

namespace Calc.Testing;

/// <summary>
/// A throwaway Redis server for one test run (see <see cref="ThrowawayRedis"/>), or the server named by the
/// <c>CALC_TEST_REDIS</c> environment variable (<c>host:port</c>) when it is set. Use it as an xunit.v3 assembly
/// fixture: <c>[assembly: AssemblyFixture(typeof(RedisServer))]</c>, then give each test class its own keys with
/// <see cref="ThrowawayRedis.CreateKeyPrefix"/>.
/// </summary>
public sealed class RedisServer() : ThrowawayRedis(Environment.GetEnvironmentVariable(ExternalServerVariable)), IAsyncLifetime
{
    /// <summary>Environment variable holding <c>host:port</c> of an existing server to use instead.</summary>
    public const string ExternalServerVariable = "CALC_TEST_REDIS";
}
