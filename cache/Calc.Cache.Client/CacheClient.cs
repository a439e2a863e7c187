using System.Runtime.CompilerServices;
using System.Text;

namespace Calc.Cache.Client;

/// <summary>
/// A client for Calc.Cache and any Redis-compatible server. Thread-safe: all callers share one connection and their
/// commands are pipelined onto it. A broken connection is re-made on the next call with exponential backoff; commands
/// that were in flight fail with <see cref="CacheConnectionException"/> and are not resent.
/// </summary>
public sealed class CacheClient : IAsyncDisposable
{
    private readonly CacheClientOptions _options;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _disposed = new();
    private RespConnection? _connection;
    private Task<RespConnection>? _connecting;

    /// <summary>Creates a client; it connects on first use.</summary>
    /// <param name="options">Server address, credentials and reconnect settings.</param>
    public CacheClient(CacheClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
    }

    /// <summary>Creates a client and connects it (so a wrong address or password fails here).</summary>
    /// <param name="options">Server address, credentials and reconnect settings.</param>
    /// <param name="cancellationToken">Cancels the connect.</param>
    public static async Task<CacheClient> ConnectAsync(CacheClientOptions options, CancellationToken cancellationToken = default)
    {
        var client = new CacheClient(options);
        try
        {
            await client.GetConnectionAsync(cancellationToken);
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary>Sends any command and returns its reply; error replies throw <see cref="CacheServerException"/>.</summary>
    /// <param name="command">Command name, e.g. <c>"SET"</c>.</param>
    /// <param name="args">Arguments: string, byte[], int, long or double.</param>
    /// <param name="cancellationToken">Stops waiting for the reply (the command may still run).</param>
    public async Task<RespValue> ExecuteAsync(string command, IReadOnlyList<object> args, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(command);
        ArgumentNullException.ThrowIfNull(args);
        var payload = RespConnection.Encode(command, args);
        var connection = await GetConnectionAsync(cancellationToken);
        var reply = await connection.SendAsync(payload, cancellationToken);
        RespConnection.ThrowIfError(reply);
        return reply;
    }

    /// <summary>Sends any command and returns its reply; error replies throw <see cref="CacheServerException"/>.</summary>
    /// <param name="command">Command name, e.g. <c>"PING"</c>.</param>
    /// <param name="args">Arguments: string, byte[], int, long or double.</param>
    public Task<RespValue> ExecuteAsync(string command, params object[] args) => ExecuteAsync(command, args, CancellationToken.None);

    /// <summary>PING; returns <c>PONG</c>.</summary>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    public async Task<string> PingAsync(CancellationToken cancellationToken = default) =>
        (await ExecuteAsync("PING", [], cancellationToken)).AsString()!;

    /// <summary>GET as text; null when the key does not exist.</summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    public async Task<string?> GetAsync(string key, CancellationToken cancellationToken = default) =>
        (await ExecuteAsync("GET", [key], cancellationToken)).AsString();

    /// <summary>GET as bytes; null when the key does not exist.</summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    public async Task<byte[]?> GetBytesAsync(string key, CancellationToken cancellationToken = default) =>
        (await ExecuteAsync("GET", [key], cancellationToken)).AsBytes();

    /// <summary>SET with an optional expiry (PX) and condition (NX/XX); false when the condition kept it from being set.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <param name="expiry">Time to live; null keeps the key forever.</param>
    /// <param name="condition">Whether an existing key may or must be overwritten.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    public Task<bool> SetAsync(string key, string value, TimeSpan? expiry = null, SetCondition condition = SetCondition.Always, CancellationToken cancellationToken = default) =>
        SetAsync(key, Encoding.UTF8.GetBytes(value ?? throw new ArgumentNullException(nameof(value))), expiry, condition, cancellationToken);

    /// <summary>SET of binary data; see <see cref="SetAsync(string, string, TimeSpan?, SetCondition, CancellationToken)"/>.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <param name="expiry">Time to live; null keeps the key forever.</param>
    /// <param name="condition">Whether an existing key may or must be overwritten.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    public async Task<bool> SetAsync(string key, byte[] value, TimeSpan? expiry = null, SetCondition condition = SetCondition.Always, CancellationToken cancellationToken = default)
    {
        var args = new List<object>(5) { key, value };
        if (expiry is { } ttl)
        {
            args.Add("PX");
            args.Add(Math.Max(1L, (long)ttl.TotalMilliseconds));
        }

        if (condition != SetCondition.Always)
        {
            args.Add(condition == SetCondition.IfNotExists ? "NX" : "XX");
        }

        return !(await ExecuteAsync("SET", args, cancellationToken)).IsNull;
    }

    /// <summary>MGET: the values of several keys, null where a key is missing.</summary>
    /// <param name="keys">The keys.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    public async Task<string?[]> GetManyAsync(IEnumerable<string> keys, CancellationToken cancellationToken = default)
    {
        var reply = await ExecuteAsync("MGET", [.. keys], cancellationToken);
        return [.. reply.Elements!.Select(e => e.AsString())];
    }

    /// <summary>DEL; returns how many of the keys existed.</summary>
    /// <param name="keys">The keys.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    public async Task<long> DeleteAsync(IEnumerable<string> keys, CancellationToken cancellationToken = default) =>
        (await ExecuteAsync("DEL", [.. keys], cancellationToken)).AsInt64();

    /// <summary>DEL of one key; true if it existed.</summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    public async Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default) =>
        await DeleteAsync([key], cancellationToken) == 1;

    /// <summary>EXISTS of one key.</summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    public async Task<bool> ExistsAsync(string key, CancellationToken cancellationToken = default) =>
        (await ExecuteAsync("EXISTS", [key], cancellationToken)).AsInt64() == 1;

    /// <summary>PEXPIRE; false if the key does not exist.</summary>
    /// <param name="key">The key.</param>
    /// <param name="ttl">Time to live from now.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    public async Task<bool> ExpireAsync(string key, TimeSpan ttl, CancellationToken cancellationToken = default) =>
        (await ExecuteAsync("PEXPIRE", [key, (long)ttl.TotalMilliseconds], cancellationToken)).AsInt64() == 1;

    /// <summary>TTL in seconds; -1 if the key has no expiry, -2 if it does not exist.</summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    public async Task<long> TtlAsync(string key, CancellationToken cancellationToken = default) =>
        (await ExecuteAsync("TTL", [key], cancellationToken)).AsInt64();

    /// <summary>PTTL in milliseconds; -1 if the key has no expiry, -2 if it does not exist.</summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    public async Task<long> PTtlAsync(string key, CancellationToken cancellationToken = default) =>
        (await ExecuteAsync("PTTL", [key], cancellationToken)).AsInt64();

    /// <summary>INCRBY; returns the new value.</summary>
    /// <param name="key">The key.</param>
    /// <param name="by">The increment (negative to decrement).</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    public async Task<long> IncrementAsync(string key, long by = 1, CancellationToken cancellationToken = default) =>
        (await ExecuteAsync("INCRBY", [key, by], cancellationToken)).AsInt64();

    /// <summary>HSET of one field; true if the field is new.</summary>
    /// <param name="key">The hash key.</param>
    /// <param name="field">The field.</param>
    /// <param name="value">The value.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    public async Task<bool> HashSetAsync(string key, string field, string value, CancellationToken cancellationToken = default) =>
        (await ExecuteAsync("HSET", [key, field, value], cancellationToken)).AsInt64() == 1;

    /// <summary>HSET of several fields; returns how many were new.</summary>
    /// <param name="key">The hash key.</param>
    /// <param name="fields">Field names and values.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    public async Task<long> HashSetAsync(string key, IEnumerable<KeyValuePair<string, string>> fields, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(fields);
        var args = new List<object> { key };
        foreach (var (field, value) in fields)
        {
            args.Add(field);
            args.Add(value);
        }

        return (await ExecuteAsync("HSET", args, cancellationToken)).AsInt64();
    }

    /// <summary>HGET; null when the key or field does not exist.</summary>
    /// <param name="key">The hash key.</param>
    /// <param name="field">The field.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    public async Task<string?> HashGetAsync(string key, string field, CancellationToken cancellationToken = default) =>
        (await ExecuteAsync("HGET", [key, field], cancellationToken)).AsString();

    /// <summary>HGETALL; empty when the key does not exist.</summary>
    /// <param name="key">The hash key.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    public async Task<Dictionary<string, string>> HashGetAllAsync(string key, CancellationToken cancellationToken = default)
    {
        var elements = (await ExecuteAsync("HGETALL", [key], cancellationToken)).Elements ?? [];
        var result = new Dictionary<string, string>(elements.Count / 2, StringComparer.Ordinal);
        for (var i = 0; i + 1 < elements.Count; i += 2)
        {
            result[elements[i].AsString()!] = elements[i + 1].AsString()!;
        }

        return result;
    }

    /// <summary>HDEL; returns how many fields were removed.</summary>
    /// <param name="key">The hash key.</param>
    /// <param name="fields">The fields.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    public async Task<long> HashDeleteAsync(string key, IEnumerable<string> fields, CancellationToken cancellationToken = default) =>
        (await ExecuteAsync("HDEL", [key, .. fields], cancellationToken)).AsInt64();

    /// <summary>KEYS; fine for tests and small key sets, use <see cref="ScanAsync"/> on large ones.</summary>
    /// <param name="pattern">Glob pattern.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    public async Task<string[]> KeysAsync(string pattern = "*", CancellationToken cancellationToken = default) =>
        [.. (await ExecuteAsync("KEYS", [pattern], cancellationToken)).Elements!.Select(e => e.AsString()!)];

    /// <summary>Iterates the keys matching <paramref name="pattern"/> with SCAN (a key may be returned more than once).</summary>
    /// <param name="pattern">Glob pattern.</param>
    /// <param name="pageSize">COUNT hint per SCAN call.</param>
    /// <param name="cancellationToken">Stops the iteration.</param>
    public async IAsyncEnumerable<string> ScanAsync(string pattern = "*", int pageSize = 100, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var cursor = "0";
        do
        {
            var reply = await ExecuteAsync("SCAN", [cursor, "MATCH", pattern, "COUNT", pageSize], cancellationToken);
            cursor = reply.Elements![0].AsString()!;
            foreach (var key in reply.Elements[1].Elements!)
            {
                yield return key.AsString()!;
            }
        }
        while (cursor != "0");
    }

    /// <summary>Closes the connection; calls in flight fail with <see cref="CacheConnectionException"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        RespConnection? connection;
        lock (_gate)
        {
            if (_disposed.IsCancellationRequested)
            {
                return;
            }

            _disposed.Cancel();
            connection = _connection;
            _connection = null;
        }

        if (connection is not null)
        {
            await connection.DisposeAsync();
        }

        _disposed.Dispose();
    }

    private async ValueTask<RespConnection> GetConnectionAsync(CancellationToken cancellationToken)
    {
        var current = Volatile.Read(ref _connection);
        if (current is { IsFaulted: false })
        {
            return current;
        }

        Task<RespConnection> connecting;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
            if (_connection is { IsFaulted: false } live)
            {
                return live;
            }

            if (_connecting is null || _connecting.IsCompleted)
            {
                _connecting = ConnectWithBackoffAsync(_connection, _disposed.Token);
            }

            connecting = _connecting;
        }

        return await connecting.WaitAsync(cancellationToken);
    }

    private async Task<RespConnection> ConnectWithBackoffAsync(RespConnection? broken, CancellationToken disposed)
    {
        if (broken is not null)
        {
            await broken.DisposeAsync();
        }

        var delay = _options.ReconnectMinDelay;
        Exception? last = null;
        for (var attempt = 1; attempt <= Math.Max(1, _options.ConnectAttempts); attempt++)
        {
            try
            {
                var connection = await RespConnection.ConnectAsync(_options, disposed);
                lock (_gate)
                {
                    if (disposed.IsCancellationRequested)
                    {
                        _ = connection.DisposeAsync().AsTask();
                        throw new ObjectDisposedException(nameof(CacheClient));
                    }

                    _connection = connection;
                }

                return connection;
            }
            catch (CacheServerException)
            {
                throw; // wrong password or similar: retrying will not help
            }
            catch (CacheConnectionException ex)
            {
                last = ex;
            }

            if (attempt < _options.ConnectAttempts)
            {
                // Jitter keeps many clients from reconnecting in lockstep after a server restart.
                var jittered = delay * (0.8 + (Random.Shared.NextDouble() * 0.4));
                await Task.Delay(jittered, disposed);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.ReconnectMaxDelay.Ticks));
            }
        }

        throw new CacheConnectionException($"Cannot connect to {_options.Host}:{_options.Port} after {_options.ConnectAttempts} attempts.", last);
    }
}
