using Calc.Data.Redis;
using Calc.Data.Testing;
using Calc.Testing;

namespace Calc.Data.Tests.Fixtures;

/// <summary>A key prefix of its own on the run's Redis server, shared by one test class (each test uses its own collection).</summary>
public sealed class RedisStoreFixture(RedisServer server) : IDocumentStoreFixture
{
    public IReadOnlyDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>
    {
        ["Database:Provider"] = "redis",
        ["Database:ConnectionString"] = $"{server.Endpoint},prefix={server.CreateKeyPrefix()}",
    };

    public void Offer(DocumentStoreProviders providers) => providers.AddRedis();
}
