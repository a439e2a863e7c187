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

        if (options.PurgeInterval <= TimeSpan.Zero)
        {
            failures.Add($"Database:PurgeInterval must be positive (was {options.PurgeInterval}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
