using System.Text.RegularExpressions;
using FluentValidation;

namespace Calc.Jobs.Domain;

/// <summary>Job ids: given by the client (letters, digits, '-', '_', at most 64) or generated (UUIDv7, hex).</summary>
internal static partial class JobIds
{
    public static string New() => Guid.CreateVersion7().ToString("N");

    public static bool IsValid(string? id) => id is not null && Pattern().IsMatch(id);

    /// <summary><c>jobId</c>: absent, or an id <see cref="IsValid"/> accepts (one rule, one message for every kind of job).</summary>
    public static IRuleBuilderOptions<T, string?> MustBeAJobId<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(id => id is null || IsValid(id))
            .WithMessage("'jobId' must be 1 to 64 letters, digits, '-' or '_'.");

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex Pattern();
}
