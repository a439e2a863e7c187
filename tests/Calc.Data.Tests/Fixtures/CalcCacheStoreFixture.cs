using Calc.Data.Redis;
using Calc.Data.Testing;
using Calc.Testing;

namespace Calc.Data.Tests.Fixtures;

/// <summary>
/// The Redis provider on our own cache server (Calc.Cache, a process of the run) instead of redis-server: its Lua
/// scripts, sorted sets and sets must behave as Redis's. A key prefix of its own, shared by one test class.
/// </summary>
public sealed class CalcCacheStoreFixture(CacheServerProcess server) : IDocumentStoreFixture
{
    public IReadOnlyDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>
    {
        ["Database:Provider"] = "redis",
        ["Database:ConnectionString"] = $"{server.Endpoint},prefix=calc{Guid.NewGuid():N}:",
    };

    public void Offer(DocumentStoreProviders providers) => providers.AddRedis();
}
