using System.Globalization;
using StackExchange.Redis;

namespace Calc.Data.Redis;

/// <summary>
/// The <c>redis</c> provider's connection string: <c>host:port[,password=...][,user=...][,prefix=...]</c>
/// (option names case-insensitive, values taken verbatim, so they cannot contain a comma).
/// </summary>
internal sealed record RedisConnectionString(ConfigurationOptions Client, string KeyPrefix)
{
    public const string Format = "host:port[,password=...][,user=...][,prefix=...]";

    /// <summary>Put in front of every key unless <c>prefix=</c> says otherwise, to share a server with other users.</summary>
    public const string DefaultKeyPrefix = "calc:";

    public static RedisConnectionString Parse(string? text) =>
        TryParse(text, out var parsed, out var error)
            ? parsed
            : throw new ArgumentException($"The redis connection string is invalid: {error} (format: {Format}).", nameof(text));

    /// <summary>Parses <paramref name="text"/>; the error never repeats a value, as one may be a password.</summary>
    public static bool TryParse(string? text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out RedisConnectionString? parsed, out string? error)
    {
        parsed = null;
        var parts = (text ?? "").Split(',', StringSplitOptions.TrimEntries);
        if (!TryParseEndpoint(parts[0], out var client, out error))
        {
            return false;
        }

        client.ClientName = "calc-data";
        // Start even when the server is away (the health check says so) and reconnect in the background.
        client.AbortOnConnectFail = false;
        var prefix = DefaultKeyPrefix;
        foreach (var part in parts.Skip(1))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? part : part[..equals].Trim();
            var value = equals < 0 ? null : part[(equals + 1)..];
            switch (name.ToUpperInvariant())
            {
                case "PASSWORD" when value is not null:
                    client.Password = value;
                    break;
                case "USER" when !string.IsNullOrEmpty(value):
                    client.User = value;
                    break;
                case "PREFIX" when value is not null:
                    // Braces would break the {collection} hash tag that keeps a collection's keys in one cluster slot.
                    if (value.AsSpan().IndexOfAny('{', '}') >= 0)
                    {
                        error = "the key prefix cannot contain '{' or '}'";
                        return false;
                    }

                    prefix = value;
                    break;
                default:
                    error = $"option '{name}' is unknown or has no value";
                    return false;
            }
        }

        parsed = new RedisConnectionString(client, prefix);
        return true;
    }

    private static bool TryParseEndpoint(string endpoint, out ConfigurationOptions client, out string? error)
    {
        client = new ConfigurationOptions();
        error = null;
        var colon = endpoint.LastIndexOf(':');
        if (colon <= 0 || endpoint.EndsWith(']'))
        {
            error = "it must start with host:port";
            return false;
        }

        if (!int.TryParse(endpoint.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            error = "the port must be a number from 1 to 65535";
            return false;
        }

        client.EndPoints.Add(endpoint[..colon].Trim('[', ']'), port);
        return true;
    }
}
