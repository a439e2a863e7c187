using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace Calc.Core.Hosting;

/// <summary>
/// Reads optional query parameters as a minimal API binds <c>int page = 1</c> or <c>string? status = null</c>:
/// several values are joined with commas, a value that does not parse is a <see cref="BadHttpRequestException"/>
/// naming the parameter (a 400 on that field through <see cref="BadRequestExceptionHandler"/>).
/// </summary>
public static class QueryParameters
{
    /// <summary>The parameter's text, or null when absent.</summary>
    public static string? Text(HttpRequest request, string name)
    {
        ArgumentNullException.ThrowIfNull(request);
        var values = request.Query[name];
        return values.Count == 0 ? null : values.ToString();
    }

    /// <summary>The parameter as an integer, <paramref name="absent"/> when it is not given.</summary>
    public static int Number(HttpRequest request, string name, int absent)
    {
        var text = Text(request, name);
        if (text is null)
        {
            return absent;
        }

        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new BadHttpRequestException($"Failed to bind parameter \"int {name}\" from \"{text}\".");
    }
}
