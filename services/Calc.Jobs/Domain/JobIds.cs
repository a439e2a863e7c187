using System.Text.RegularExpressions;

namespace Calc.Jobs.Domain;

/// <summary>Job ids: given by the client (letters, digits, '-', '_', at most 64) or generated (UUIDv7, hex).</summary>
internal static partial class JobIds
{
    public static string New() => Guid.CreateVersion7().ToString("N");

    public static bool IsValid(string? id) => id is not null && Pattern().IsMatch(id);

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex Pattern();
}
