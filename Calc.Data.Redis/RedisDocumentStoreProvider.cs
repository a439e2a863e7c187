namespace Calc.Data.Redis;

/// <summary>Offers the Redis provider to <c>AddDocumentStore</c>.</summary>
public static class RedisDocumentStoreProvider
{
    /// <summary>The provider's name in <c>Database:Provider</c>.</summary>
    public const string Name = "redis";

    /// <summary>
    /// Offers <c>redis</c>: <c>Database:ConnectionString</c> in the form
    /// <c>host:port[,password=...][,user=...][,prefix=...]</c>, e.g. <c>127.0.0.1:6379</c> or
    /// <c>redis:6379,password=secret,prefix=jobs:</c>. <c>password</c> (and the ACL <c>user</c>) are sent on connect;
    /// <c>prefix</c> goes in front of every key (default <c>calc:</c>, may be empty, no braces). Option names are
    /// case-insensitive; values are taken verbatim and cannot contain a comma.
    /// </summary>
    /// <param name="providers">The providers the service offers.</param>
    /// <returns>The same providers.</returns>
    public static DocumentStoreProviders AddRedis(this DocumentStoreProviders providers)
    {
        ArgumentNullException.ThrowIfNull(providers);
        return providers.Add(new DocumentStoreProvider
        {
            Name = Name,
            ConnectionStringExample = $"127.0.0.1:6379' or '{RedisConnectionString.Format}",
            ValidateConnectionString = static text =>
                RedisConnectionString.TryParse(text, out _, out var error) ? null : $"{error} (format: {RedisConnectionString.Format})",
            CreateStore = static context => new RedisDocumentStore(context.Options.ConnectionString!, context.SerializerOptions, context.Time),
        });
    }
}
