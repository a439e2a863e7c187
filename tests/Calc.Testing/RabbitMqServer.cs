using Xunit;

namespace Calc.Testing;

/// <summary>
/// A throwaway RabbitMQ broker for one test run (see <see cref="ThrowawayRabbitMq"/>), or the broker named by
/// <c>CALC_TEST_RABBITMQ</c> (<c>amqp://...</c>) when that is set. Use it as an xunit.v3 assembly fixture
/// (<c>[assembly: AssemblyFixture(typeof(RabbitMqServer))]</c>) and give each test its own queue names with
/// <see cref="ThrowawayRabbitMq.UniqueName"/>; a test that restarts the broker starts its own instance instead.
/// </summary>
public sealed class RabbitMqServer() : ThrowawayRabbitMq(Environment.GetEnvironmentVariable(ExternalServerVariable)), IAsyncLifetime
{
    /// <summary>Environment variable holding the AMQP URI of an existing broker to use instead.</summary>
    public const string ExternalServerVariable = "CALC_TEST_RABBITMQ";
}
