using Calc.Data.Redis;
using Microsoft.Extensions.Options;

namespace Calc.Data;

internal sealed class DatabaseOptionsValidator : IValidateOptions<DatabaseOptions>
{
    public ValidateOptionsResult Validate(string? name, DatabaseOptions options)
    {
        var failures = new List<string>();
        var provider = DatabaseProviders.Find(options.Provider);
        if (provider is null)
        {
            failures.Add($"Database:Provider '{options.Provider}' is not supported; allowed values: {string.Join(", ", DatabaseProviders.All)}.");
        }
        else if (provider == DatabaseProviders.Postgres && string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            failures.Add("Database:ConnectionString is required when Database:Provider is 'postgres' (e.g. 'Host=localhost;Username=calc;Password=...;Database=calc').");
        }
        else if (provider == DatabaseProviders.Redis && string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            failures.Add($"Database:ConnectionString is required when Database:Provider is 'redis' (e.g. '127.0.0.1:6379' or '{RedisConnectionString.Format}').");
        }
        else if (provider == DatabaseProviders.Redis && !RedisConnectionString.TryParse(options.ConnectionString, out _, out var error))
        {
            // The message leaves the connection string out: it may hold a password.
            failures.Add($"Database:ConnectionString is not a valid redis connection string: {error} (format: {RedisConnectionString.Format}).");
        }

        if (options.PurgeInterval <= TimeSpan.Zero)
        {
            failures.Add($"Database:PurgeInterval must be positive (was {options.PurgeInterval}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
