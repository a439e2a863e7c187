using System.Text.Json;
using Calc.Cache.Client;
using Microsoft.Extensions.Options;

namespace Calc.Gateway.Registry;

/// <summary>
/// The registry in a RESP cache (Calc.Cache or Redis). Layout, with <c>{p}</c> = <c>Registry:KeyPrefix</c>:
/// <list type="bullet">
/// <item><c>{p}:instance:{service}:{instanceId}</c>: string, the entry as JSON, with a TTL renewed by every heartbeat.</item>
/// <item><c>{p}:registry:{service}</c>: hash, field per instance id: the index of a service's instances.</item>
/// <item><c>{p}:registry</c>: hash, field per service name: the index of services.</item>
/// <item><c>{p}:evicted:{service}:{instanceId}</c>: string with a TTL, while an instance is kept out.</item>
/// </list>
/// Index fields whose instance key has expired are removed when the registry is read, so the indexes stay small.
/// </summary>
internal sealed class CacheRegistryStore(CacheClient cache, IOptions<RegistryOptions> options) : IRegistryStore
{
    private readonly string _prefix = options.Value.KeyPrefix;

    private string ServicesKey => $"{_prefix}:registry";

    public async Task UpsertAsync(RegistryEntry entry, TimeSpan ttl, CancellationToken cancellationToken)
    {
        // Pipelined on the one connection: the instance key first, so a reader never finds an index field without it for long.
        var set = cache.SetAsync(InstanceKey(entry.Service, entry.InstanceId), JsonSerializer.Serialize(entry, JsonOptions), ttl, cancellationToken: cancellationToken);
        var index = cache.HashSetAsync(ServiceKey(entry.Service), entry.InstanceId, "1", cancellationToken);
        var services = cache.HashSetAsync(ServicesKey, entry.Service, "1", cancellationToken);
        await Task.WhenAll(set, index, services);
    }

    public async Task RemoveAsync(string service, string instanceId, CancellationToken cancellationToken)
    {
        await Task.WhenAll(
            cache.DeleteAsync(InstanceKey(service, instanceId), cancellationToken),
            cache.HashDeleteAsync(ServiceKey(service), [instanceId], cancellationToken));
    }

    public async Task<IReadOnlyList<RegistryEntry>> ReadAllAsync(CancellationToken cancellationToken)
    {
        var services = await cache.HashGetAllAsync(ServicesKey, cancellationToken);
        var perService = await Task.WhenAll(services.Keys.Select(s => ReadServiceAsync(s, cancellationToken)));
        return [.. perService.SelectMany(entries => entries)];
    }

    public async Task EvictAsync(string service, string instanceId, TimeSpan duration, CancellationToken cancellationToken)
    {
        await Task.WhenAll(
            cache.SetAsync(EvictedKey(service, instanceId), "1", duration, cancellationToken: cancellationToken),
            RemoveAsync(service, instanceId, cancellationToken));
    }

    public Task<bool> IsEvictedAsync(string service, string instanceId, CancellationToken cancellationToken) =>
        cache.ExistsAsync(EvictedKey(service, instanceId), cancellationToken);

    private async Task<IReadOnlyList<RegistryEntry>> ReadServiceAsync(string service, CancellationToken cancellationToken)
    {
        var ids = (await cache.HashGetAllAsync(ServiceKey(service), cancellationToken)).Keys.ToArray();
        if (ids.Length == 0)
        {
            return [];
        }

        var values = await cache.GetManyAsync(ids.Select(id => InstanceKey(service, id)), cancellationToken);
        var entries = new List<RegistryEntry>(ids.Length);
        var expired = new List<string>();
        for (var i = 0; i < ids.Length; i++)
        {
            var entry = values[i] is { } json ? TryDeserialize(json) : null;
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
            await cache.HashDeleteAsync(ServiceKey(service), expired, cancellationToken);
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
