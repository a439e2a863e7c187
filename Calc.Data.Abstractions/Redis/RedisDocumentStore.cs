using System.Text.Json;
using Calc.Cache.Client;

namespace Calc.Data.Redis;

/// <summary>Redis through <see cref="CacheClient"/>: one multiplexed connection shared by every collection.</summary>
internal sealed class RedisDocumentStore : IDocumentStore
{
    private readonly string _keyPrefix;
    private readonly JsonSerializerOptions _serializerOptions;
    private readonly TimeProvider _time;

    public RedisDocumentStore(string connectionString, JsonSerializerOptions serializerOptions, TimeProvider time)
    {
        var settings = RedisConnectionString.Parse(connectionString);
        _keyPrefix = settings.KeyPrefix;
        _serializerOptions = serializerOptions;
        _time = time;
        Client = new CacheClient(settings.Client);
    }

    public CacheClient Client { get; }

    public IDocumentRepository<T> CreateRepository<T>(DocumentCollection<T> collection) where T : class =>
        new RedisDocumentRepository<T>(this, _keyPrefix, collection, _serializerOptions, _time);

    public async Task CheckConnectionAsync(CancellationToken cancellationToken) => await Client.PingAsync(cancellationToken);

    /// <summary>Runs a script by its digest, sending its text only when the server does not have it cached (after a restart).</summary>
    public async Task<RespValue> EvalAsync(RedisScript script, IReadOnlyList<string> keys, IReadOnlyList<object> arguments, CancellationToken cancellationToken)
    {
        object[] tail = [keys.Count, .. keys, .. arguments];
        try
        {
            return await Client.ExecuteAsync("EVALSHA", [script.Sha1, .. tail], cancellationToken);
        }
        catch (CacheServerException exception) when (exception.Code == "NOSCRIPT")
        {
            return await Client.ExecuteAsync("EVAL", [script.Text, .. tail], cancellationToken);
        }
    }

    // Both forms: a service provider disposed synchronously refuses singletons that are only IAsyncDisposable.
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    public ValueTask DisposeAsync() => Client.DisposeAsync();
}
