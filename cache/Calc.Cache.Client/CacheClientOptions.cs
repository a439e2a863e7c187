using System.Globalization;

namespace Calc.Cache.Client;

/// <summary>Where and how <see cref="CacheClient"/> connects.</summary>
public sealed class CacheClientOptions
{
    /// <summary>Host name or IP address of the server. Default 127.0.0.1.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>TCP port of the server. Default 6379.</summary>
    public int Port { get; set; } = 6379;

    /// <summary>ACL user for AUTH; null means the default user.</summary>
    public string? User { get; set; }

    /// <summary>Password sent with HELLO ... AUTH on every (re)connect; null for none.</summary>
    public string? Password { get; set; }

    /// <summary>Connection name sent with HELLO ... SETNAME (shows in CLIENT LIST); null for none.</summary>
    public string? ClientName { get; set; }

    /// <summary>Time allowed for one TCP connect plus handshake. Default 5 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>First delay between reconnect attempts; doubles up to <see cref="ReconnectMaxDelay"/>. Default 50 ms.</summary>
    public TimeSpan ReconnectMinDelay { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Largest delay between reconnect attempts. Default 2 s.</summary>
    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Connect attempts before a call fails with <see cref="CacheConnectionException"/>. Default 5.</summary>
    public int ConnectAttempts { get; set; } = 5;

    /// <summary>Parses <c>host:port</c> (the <c>Cache:Endpoint</c> setting); the port defaults to 6379.</summary>
    /// <param name="endpoint">For example <c>127.0.0.1:6379</c> or <c>cache</c>.</param>
    public static CacheClientOptions FromEndpoint(string endpoint)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(endpoint);
        var colon = endpoint.LastIndexOf(':');
        if (colon < 0 || endpoint.EndsWith(']'))
        {
            return new CacheClientOptions { Host = endpoint.Trim('[', ']') };
        }

        return new CacheClientOptions
        {
            Host = endpoint[..colon].Trim('[', ']'),
            Port = int.Parse(endpoint[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture),
        };
    }
}
