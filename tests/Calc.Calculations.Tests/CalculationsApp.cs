using Calc.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Calc.Calculations.Tests;

/// <summary>The Calculations service in the test process (TestServer), on a real database.</summary>
public sealed class CalculationsApp(IReadOnlyDictionary<string, string?> settings) : WebApplicationFactory<Program>
{
    public static async Task<CalculationsApp> OnPostgresAsync(PostgresServer postgres, params (string Key, string? Value)[] settings)
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        return new CalculationsApp(Settings(settings, ("Database:Provider", "postgres"), ("Database:ConnectionString", connectionString)));
    }

    /// <summary>An instance on a database another instance may share (made by <see cref="PostgresServer.CreateDatabaseAsync"/>).</summary>
    public static CalculationsApp OnPostgresDatabase(string connectionString, params (string Key, string? Value)[] settings) =>
        new(Settings(settings, ("Database:Provider", "postgres"), ("Database:ConnectionString", connectionString)));

    public static CalculationsApp OnSqlite(TempDirectory directory, params (string Key, string? Value)[] settings) =>
        new(Settings(settings, ("Database:Provider", "sqlite"), ("Database:ConnectionString", $"Data Source={directory.Combine("calculations.db")}")));

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }
    }

    private static Dictionary<string, string?> Settings((string Key, string? Value)[] extra, params (string Key, string? Value)[] database)
    {
        var all = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:Console:FormatterName"] = "simple",
        };
        foreach (var (key, value) in database.Concat(extra))
        {
            all[key] = value;
        }

        return all;
    }
}
