using System.Text.Json;
using StackExchange.Redis;

namespace Calc.Data.Redis;

/// <summary>Redis through StackExchange.Redis: one multiplexed connection shared by every collection.</summary>
internal sealed class RedisDocumentStore : IDocumentStore
{
    private readonly string _keyPrefix;
    private readonly JsonSerializerOptions _serializerOptions;
    private readonly TimeProvider _time;
    private readonly ConfigurationOptions _configuration;
    private readonly Lock _connectGate = new();
    private Task<ConnectionMultiplexer>? _connection;

    public RedisDocumentStore(string connectionString, JsonSerializerOptions serializerOptions, TimeProvider time)
    {
        var settings = RedisConnectionString.Parse(connectionString);
        _keyPrefix = settings.KeyPrefix;
        _serializerOptions = serializerOptions;
        _time = time;
        _configuration = settings.Client;
    }

    public IDocumentRepository<T> CreateRepository<T>(DocumentCollection<T> collection) where T : class =>
        new RedisDocumentRepository<T>(this, _keyPrefix, collection, _serializerOptions, _time);

    // Redis needs no schema.
    public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task CheckConnectionAsync(CancellationToken cancellationToken) =>
        await (await DatabaseAsync(cancellationToken)).PingAsync().WaitAsync(cancellationToken);

    public async Task<IDatabase> DatabaseAsync(CancellationToken cancellationToken) =>
        (await ConnectAsync().WaitAsync(cancellationToken)).GetDatabase();

    /// <summary>Runs a script by its digest, sending its text only when the server does not have it cached (after a restart).</summary>
    public async Task<RedisResult> EvalAsync(RedisScript script, RedisKey[] keys, RedisValue[] arguments, CancellationToken cancellationToken)
    {
        var database = await DatabaseAsync(cancellationToken);
        try
        {
            return await database.ScriptEvaluateAsync(script.Hash, keys, arguments).WaitAsync(cancellationToken);
        }
        catch (RedisServerException exception) when (exception.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            return await database.ScriptEvaluateAsync(script.Text, keys, arguments).WaitAsync(cancellationToken);
        }
    }

    // One connection for the store, made on first use; a failed connect is retried by the next call.
    private Task<ConnectionMultiplexer> ConnectAsync()
    {
        lock (_connectGate)
        {
            if (_connection is null || _connection.IsFaulted || _connection.IsCanceled)
            {
                _connection = ConnectionMultiplexer.ConnectAsync(_configuration);
            }

            return _connection;
        }
    }

    // Both forms: a service provider disposed synchronously refuses singletons that are only IAsyncDisposable.
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    public async ValueTask DisposeAsync()
    {
        Task<ConnectionMultiplexer>? connection;
        lock (_connectGate)
        {
            connection = _connection;
            _connection = null;
        }

        if (connection is { IsCompletedSuccessfully: true })
        {
            await connection.Result.DisposeAsync();
        }
    }
}
