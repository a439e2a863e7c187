using Microsoft.Extensions.Options;

namespace Calc.Data;

internal sealed class DatabaseOptionsValidator(DocumentStoreProviders providers) : IValidateOptions<DatabaseOptions>
{
    public ValidateOptionsResult Validate(string? name, DatabaseOptions options)
    {
        var failures = new List<string>();
        var provider = providers.Find(options.Provider);
        if (provider is null)
        {
            failures.Add($"Database:Provider '{options.Provider}' is not supported; allowed values: {providers.DescribeAll()}.");
        }
        else if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            failures.Add($"Database:ConnectionString is required when Database:Provider is '{provider.Name}' (e.g. '{provider.ConnectionStringExample}').");
        }
        else if (provider.ValidateConnectionString(options.ConnectionString) is { } error)
        {
            // The message leaves the connection string out: it may hold a password.
            failures.Add($"Database:ConnectionString is not a valid {provider.Name} connection string: {error}.");
        }

        if (options.PurgeInterval <= TimeSpan.Zero)
        {
            failures.Add($"Database:PurgeInterval must be positive (was {options.PurgeInterval}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
