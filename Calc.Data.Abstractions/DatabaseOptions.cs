namespace Calc.Data;

/// <summary>
/// Which database the document repositories use, bound from the configuration section <c>Database</c>
/// (environment form <c>Database__Provider</c>, <c>Database__ConnectionString</c>). Validated when the host starts.
/// </summary>
public sealed class DatabaseOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "Database";

    /// <summary>The provider used when <c>Database:Provider</c> is not set.</summary>
    public const string DefaultProvider = "sqlite";

    /// <summary>
    /// The provider: one of those the service offers (<c>sqlite</c>, the default, <c>marten</c> alias <c>postgres</c>,
    /// <c>mongo</c>, <c>redis</c>), matched case-insensitively; after start it holds the canonical name.
    /// </summary>
    public string Provider { get; set; } = DefaultProvider;

    /// <summary>
    /// The provider's connection string; each provider package documents its form. <c>sqlite</c> defaults to
    /// <c>Data Source=calc.db</c>; the others require one.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>How often expired documents are purged in the background (default one minute).</summary>
    public TimeSpan PurgeInterval { get; set; } = TimeSpan.FromMinutes(1);
}
