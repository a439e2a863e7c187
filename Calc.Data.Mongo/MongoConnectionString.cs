using System.Buffers;
using MongoDB.Driver;

namespace Calc.Data.Mongo;

/// <summary>The <c>mongo</c> provider's connection string: a MongoDB URL, whose path names the database.</summary>
internal static class MongoConnectionString
{
    public const string Format = "mongodb://[user:password@]host[:port][/database][?options]";

    /// <summary>The database used when the URL names none.</summary>
    public const string DefaultDatabase = "calc";

    // What MongoDB refuses in a database name (on any platform).
    private const string InvalidDatabaseCharacters = "/\\. \"$*<>:|?";

    private static readonly SearchValues<char> InvalidDatabaseCharacter = SearchValues.Create(InvalidDatabaseCharacters);

    /// <summary>Parses <paramref name="text"/>; the error never repeats it, as it may hold a password.</summary>
    public static bool TryParse(string? text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out MongoUrl? url, out string? error)
    {
        url = null;
        error = null;
        if (text is null || !(text.StartsWith("mongodb://", StringComparison.Ordinal) || text.StartsWith("mongodb+srv://", StringComparison.Ordinal)))
        {
            error = "it must start with mongodb:// or mongodb+srv://";
            return false;
        }

        try
        {
            url = MongoUrl.Create(text);
        }
        catch (Exception exception) when (exception is MongoConfigurationException or ArgumentException or FormatException or OverflowException)
        {
            // The driver's message quotes the offending part, which may be the password.
            error = "the driver cannot read it";
            return false;
        }

        // The driver leaves the name to the server, which would refuse it only at the first request.
        if (url.DatabaseName is { } database && (database.Length > 63 || database.AsSpan().ContainsAny(InvalidDatabaseCharacter)))
        {
            url = null;
            error = $"the database name must be 1 to 63 characters without any of {InvalidDatabaseCharacters}";
            return false;
        }

        return true;
    }

    public static MongoUrl Parse(string text) =>
        TryParse(text, out var url, out var error)
            ? url
            : throw new ArgumentException($"The mongo connection string is invalid: {error} (format: {Format}).", nameof(text));
}
