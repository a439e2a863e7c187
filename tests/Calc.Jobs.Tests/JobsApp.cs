using Calc.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Calc.Jobs.Tests;

/// <summary>The Jobs service in the test process (TestServer) on its embedded defaults: SQLite and the in-process queue.</summary>
public sealed class JobsApp(TempDirectory directory, params (string Key, string? Value)[] settings) : WebApplicationFactory<Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        builder.UseSetting("Logging:Console:FormatterName", "simple");
        builder.UseSetting("Database:Provider", "sqlite");
        builder.UseSetting("Database:ConnectionString", $"Data Source={directory.Combine("jobs.db")}");
        builder.UseSetting("Queue:Provider", "inprocess");
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }
    }
}
