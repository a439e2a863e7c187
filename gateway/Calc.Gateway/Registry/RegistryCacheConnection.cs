using System.Net;
using StackExchange.Redis;

namespace Calc.Gateway.Registry;

/// <summary>
/// The registry's one multiplexed StackExchange.Redis connection to the cache (<c>Cache:Endpoint</c>), configured to
/// work the same against Calc.Cache and against redis-server. Connected on first use, never on the caller's thread:
/// <see cref="DatabaseAsync"/> awaits the connect, so neither host start nor a request waits on a blocking connect.
/// </summary>
internal sealed class RegistryCacheConnection : IAsyncDisposable, IDisposable
{
    /// <summary>Per-command limit: a cache that is stuck costs the registry at most this per call.</summary>
    public static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Limit of one connect with its handshake (about seven commands): seconds on a loaded machine, more than a
    /// command's limit. A cache that is down refuses the connect at once, so this does not delay noticing an outage.
    /// </summary>
    public static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Delay between reconnect attempts once the cache went away (it comes back within one of these).</summary>
    public static readonly TimeSpan ReconnectDelay = TimeSpan.FromMilliseconds(500);

    private readonly ConfigurationOptions _configuration;
    private readonly Lock _connectGate = new();
    private Task<ConnectionMultiplexer>? _connection;
    private bool _disposed;

    public RegistryCacheConnection(string endpoint) => _configuration = Configure(endpoint);

    /// <summary>
    /// The client settings for <paramref name="endpoint"/> (<c>host:port</c>, or <c>host</c> for port 6379). They
    /// keep the client to commands every Redis-protocol server here answers (Calc.Cache, redis-server 7.0): no pub/sub
    /// and so no second connection for it (Calc.Cache has none, and the registry needs no master-change broadcast), no
    /// tie-breaker key, no cluster or sentinel discovery, no CLIENT SETINFO.
    /// </summary>
    public static ConfigurationOptions Configure(string endpoint)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(endpoint);
        var configuration = new ConfigurationOptions
        {
            ClientName = "calc-gateway",
            // CLIENT SETINFO is Redis 7.2's: redis-server 7.0 answers it with an error on every connect.
            SetClientLibrary = false,
            // Start with the cache down and reconnect in the background; the registry runs on its last known view.
            AbortOnConnectFail = false,
            ConnectRetry = 1,
            ConnectTimeout = (int)HandshakeTimeout.TotalMilliseconds,
            SyncTimeout = (int)CommandTimeout.TotalMilliseconds,
            AsyncTimeout = (int)CommandTimeout.TotalMilliseconds,
            ReconnectRetryPolicy = new LinearRetry((int)ReconnectDelay.TotalMilliseconds),
            // While disconnected a command fails at once instead of waiting in a backlog for the timeout: the
            // gateway's heartbeats and refreshes go on from its own view meanwhile.
            BacklogPolicy = BacklogPolicy.FailFast,
            ConfigurationChannel = "",
            TieBreaker = "",
            CommandMap = CommandMap.Create(
                ["SUBSCRIBE", "UNSUBSCRIBE", "PSUBSCRIBE", "PUNSUBSCRIBE", "SSUBSCRIBE", "SUNSUBSCRIBE", "PUBLISH", "CLUSTER", "SENTINEL"],
                available: false),
        };
        configuration.EndPoints.Add(ParseEndpoint(endpoint));
        return configuration;
    }

    /// <summary>The database, connecting first if no connection was made yet (a failed connect is retried by the next call).</summary>
    public async Task<IDatabase> DatabaseAsync(CancellationToken cancellationToken) =>
        (await ConnectAsync().WaitAsync(cancellationToken)).GetDatabase();

    private Task<ConnectionMultiplexer> ConnectAsync()
    {
        lock (_connectGate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_connection is null || _connection.IsFaulted || _connection.IsCanceled)
            {
                _connection = ConnectionMultiplexer.ConnectAsync(_configuration);
            }

            return _connection;
        }
    }

    private static EndPoint ParseEndpoint(string endpoint)
    {
        var colon = endpoint.LastIndexOf(':');
        if (colon < 0 || endpoint.EndsWith(']'))
        {
            return ToEndPoint(endpoint.Trim('[', ']'), 6379);
        }

        if (!int.TryParse(endpoint.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            throw new ArgumentException($"Cache:Endpoint must be host:port with a port from 1 to 65535, not '{endpoint}'.", nameof(endpoint));
        }

        return ToEndPoint(endpoint[..colon].Trim('[', ']'), port);
    }

    private static EndPoint ToEndPoint(string host, int port) =>
        IPAddress.TryParse(host, out var address) ? new IPEndPoint(address, port) : new DnsEndPoint(host, port);

    // Both forms: a service provider disposed synchronously refuses singletons that are only IAsyncDisposable.
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    public async ValueTask DisposeAsync()
    {
        Task<ConnectionMultiplexer>? connection;
        lock (_connectGate)
        {
            connection = _connection;
            _connection = null;
            _disposed = true;
        }

        if (connection is null)
        {
            return;
        }

        // A connect still under way ends within the connect timeout (it does not throw: AbortOnConnectFail is off).
        try
        {
            await (await connection).DisposeAsync();
        }
        catch (RedisException)
        {
        }
    }
}
