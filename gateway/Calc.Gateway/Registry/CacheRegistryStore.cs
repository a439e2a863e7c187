using System.Text.Json;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Calc.Gateway.Registry;

/// <summary>
/// The registry in a Redis-protocol cache (Calc.Cache or redis-server), through StackExchange.Redis. Layout, with
/// <c>{p}</c> = <c>Registry:KeyPrefix</c>:
/// <list type="bullet">
/// <item><c>{p}:instance:{service}:{instanceId}</c>: string, the entry as JSON, with a TTL renewed by every heartbeat.</item>
/// <item><c>{p}:registry:{service}</c>: hash, field per instance id: the index of a service's instances.</item>
/// <item><c>{p}:registry</c>: hash, field per service name: the index of services.</item>
/// <item><c>{p}:evicted:{service}:{instanceId}</c>: string with a TTL, while an instance is kept out.</item>
/// </list>
/// Index fields whose instance key has expired are removed when the registry is read, so the indexes stay small.
/// Only plain string, hash and key commands are used (no MULTI, no scripts), which every Redis-protocol server has.
/// </summary>
internal sealed class CacheRegistryStore(RegistryCacheConnection cache, IOptions<RegistryOptions> options) : IRegistryStore
{
    private readonly string _prefix = options.Value.KeyPrefix;

    private string ServicesKey => $"{_prefix}:registry";

    public async Task UpsertAsync(RegistryEntry entry, TimeSpan ttl, CancellationToken cancellationToken)
    {
        var db = await cache.DatabaseAsync(cancellationToken);
        // Pipelined on the one connection: the instance key first, so a reader never finds an index field without it for long.
        var set = db.StringSetAsync(InstanceKey(entry.Service, entry.InstanceId), JsonSerializer.Serialize(entry, JsonOptions), ttl, When.Always);
        var index = db.HashSetAsync(ServiceKey(entry.Service), entry.InstanceId, "1");
        var services = db.HashSetAsync(ServicesKey, entry.Service, "1");
        await Task.WhenAll(set, index, services).WaitAsync(cancellationToken);
    }

    public async Task RemoveAsync(string service, string instanceId, CancellationToken cancellationToken)
    {
        var db = await cache.DatabaseAsync(cancellationToken);
        await Task.WhenAll(
            db.KeyDeleteAsync(InstanceKey(service, instanceId)),
            db.HashDeleteAsync(ServiceKey(service), instanceId)).WaitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<RegistryEntry>> ReadAllAsync(CancellationToken cancellationToken)
    {
        var db = await cache.DatabaseAsync(cancellationToken);
        var services = await db.HashKeysAsync(ServicesKey).WaitAsync(cancellationToken);
        var perService = await Task.WhenAll(services.Select(s => ReadServiceAsync(db, s.ToString(), cancellationToken)));
        return [.. perService.SelectMany(entries => entries)];
    }

    public async Task EvictAsync(string service, string instanceId, TimeSpan duration, CancellationToken cancellationToken)
    {
        var db = await cache.DatabaseAsync(cancellationToken);
        await Task.WhenAll(
            db.StringSetAsync(EvictedKey(service, instanceId), "1", duration, When.Always),
            RemoveAsync(service, instanceId, cancellationToken)).WaitAsync(cancellationToken);
    }

    public async Task<bool> IsEvictedAsync(string service, string instanceId, CancellationToken cancellationToken) =>
        await (await cache.DatabaseAsync(cancellationToken)).KeyExistsAsync(EvictedKey(service, instanceId)).WaitAsync(cancellationToken);

    private async Task<IReadOnlyList<RegistryEntry>> ReadServiceAsync(IDatabase db, string service, CancellationToken cancellationToken)
    {
        var ids = await db.HashKeysAsync(ServiceKey(service)).WaitAsync(cancellationToken);
        if (ids.Length == 0)
        {
            return [];
        }

        var values = await db.StringGetAsync([.. ids.Select(id => (RedisKey)InstanceKey(service, id.ToString()))]).WaitAsync(cancellationToken);
        var entries = new List<RegistryEntry>(ids.Length);
        var expired = new List<RedisValue>();
        for (var i = 0; i < ids.Length; i++)
        {
            var entry = values[i].IsNull ? null : TryDeserialize(values[i].ToString());
            if (entry is null)
            {
                expired.Add(ids[i]);
            }
            else
            {
                entries.Add(entry);
            }
        }

        if (expired.Count > 0)
        {
            await db.HashDeleteAsync(ServiceKey(service), [.. expired]).WaitAsync(cancellationToken);
        }

        return entries;
    }

    private static RegistryEntry? TryDeserialize(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<RegistryEntry>(json, JsonOptions);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    private string ServiceKey(string service) => $"{_prefix}:registry:{service}";

    private string InstanceKey(string service, string instanceId) => $"{_prefix}:instance:{service}:{instanceId}";

    private string EvictedKey(string service, string instanceId) => $"{_prefix}:evicted:{service}:{instanceId}";
}
