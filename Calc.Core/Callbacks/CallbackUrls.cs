using System.Net;

namespace Calc.Core.Callbacks;

/// <summary>
/// What the API accepts as a callback URL: absolute http(s), not too long, on an allowed host, and not naming an
/// address the callbacks' address policy refuses (a literal address, or <c>localhost</c>). This is the early, friendly
/// answer only: a host name is judged again on the addresses it resolves to when the callback connects.
/// </summary>
public static class CallbackUrls
{
    /// <summary>Checks <paramref name="url"/>; returns null when it is accepted, else a message naming the field <c>callbackUrl</c>.</summary>
    /// <param name="url">The URL a client sent.</param>
    /// <param name="options">The limits and the allow-list.</param>
    public static string? Check(string? url, CallbackOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (url is null || url.Length > options.MaxUrlLength
            || !Uri.TryCreate(url, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || string.IsNullOrEmpty(uri.Host)
            || !string.IsNullOrEmpty(uri.UserInfo))
        {
            return $"'callbackUrl' must be an absolute http or https URL without user info, of at most {options.MaxUrlLength} characters.";
        }

        if (!IsAllowedHost(uri.IdnHost, options.AllowedHosts))
        {
            return $"'callbackUrl' names host '{uri.Host}', which is not in the allowed hosts (Callbacks:AllowedHosts).";
        }

        return NamedAddress(uri) is { } address && options.CreateAddressPolicy().Refusal(address) is { } refusal
            ? $"'callbackUrl' is refused: {refusal}."
            : null;
    }

    // The address a URL names without asking DNS: a literal (Uri has already read 0x7f.1, 2130706433 and the like as
    // 127.0.0.1), or loopback for localhost and its subdomains (RFC 6761).
    private static IPAddress? NamedAddress(Uri uri)
    {
        if (uri.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6)
        {
            return IPAddress.TryParse(uri.DnsSafeHost, out var literal) ? literal : null;
        }

        var host = uri.IdnHost.TrimEnd('.');
        return host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)
            ? IPAddress.Loopback
            : null;
    }

    private static bool IsAllowedHost(string host, IList<string> allowed)
    {
        if (allowed.Count == 0)
        {
            return true;
        }

        host = host.Trim('[', ']');
        foreach (var entry in allowed)
        {
            if (entry.StartsWith("*.", StringComparison.Ordinal)
                ? host.EndsWith(entry[1..], StringComparison.OrdinalIgnoreCase)
                : string.Equals(host, entry.Trim('[', ']'), StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
