namespace Calc.Calculations.Domain;

/// <summary>What the API accepts as a callback URL.</summary>
internal static class CalculationNames
{
    public static bool IsValidCallbackUrl(string? url) =>
        url is { Length: <= 2048 }
        && Uri.TryCreate(url, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        && !string.IsNullOrEmpty(uri.Host);
}
