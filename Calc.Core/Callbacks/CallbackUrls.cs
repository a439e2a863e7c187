namespace Calc.Callbacks;

/// <summary>What the API accepts as a callback URL: absolute http(s), not too long, on an allowed host.</summary>
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

        return IsAllowedHost(uri.IdnHost, options.AllowedHosts)
            ? null
            : $"'callbackUrl' names host '{uri.Host}', which is not in the allowed hosts (Callbacks:AllowedHosts).";
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
