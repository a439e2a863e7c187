namespace Calc.Data;

/// <summary>
/// Which database the document repositories use, bound from the configuration section <c>Database</c>
/// (environment form <c>Database__Provider</c>, <c>Database__ConnectionString</c>). Validated when the host starts.
/// </summary>
public sealed class DatabaseOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "Database";

    /// <summary>The provider: <c>sqlite</c> (default, an embedded file) or <c>postgres</c>.</summary>
    public string Provider { get; set; } = DatabaseProviders.Sqlite;

    /// <summary>
    /// The provider's connection string. For <c>sqlite</c> it defaults to <c>Data Source=calc.db</c>;
    /// for <c>postgres</c> it is required.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>How often expired documents are purged in the background (default one minute).</summary>
    public TimeSpan PurgeInterval { get; set; } = TimeSpan.FromMinutes(1);
}
