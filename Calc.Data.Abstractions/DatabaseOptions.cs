namespace Calc.Data;

/// <summary>
/// Which database the document repositories use, bound from the configuration section <c>Database</c>
/// (environment form <c>Database__Provider</c>, <c>Database__ConnectionString</c>). Validated when the host starts.
/// </summary>
public sealed class DatabaseOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "Database";

    /// <summary>The provider: <c>sqlite</c> (default, an embedded file), <c>postgres</c> or <c>redis</c>.</summary>
    public string Provider { get; set; } = DatabaseProviders.Sqlite;

    /// <summary>
    /// The provider's connection string. For <c>sqlite</c> it defaults to <c>Data Source=calc.db</c>;
    /// for <c>postgres</c> it is required (an Npgsql connection string).
    /// For <c>redis</c> it is required, in the form <c>host:port[,password=...][,user=...][,prefix=...]</c>, e.g.
    /// <c>127.0.0.1:6379</c> or <c>redis:6379,password=secret,prefix=jobs:</c>: <c>password</c> (and the ACL <c>user</c>)
    /// are sent on connect; <c>prefix</c> goes in front of every key (default <c>calc:</c>, may be empty, no braces).
    /// Option names are case-insensitive; values are taken verbatim and cannot contain a comma.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>How often expired documents are purged in the background (default one minute).</summary>
    public TimeSpan PurgeInterval { get; set; } = TimeSpan.FromMinutes(1);
}
