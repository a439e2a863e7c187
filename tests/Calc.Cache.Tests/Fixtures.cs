using Calc.Cache.Server;
using Calc.Cache.Tests;
using Calc.Testing;

[assembly: AssemblyFixture(typeof(CacheServerFixture))]
// The reference behaviour: a real redis-server (Debian package), the shared fixture every test project uses.
[assembly: AssemblyFixture(typeof(RedisServer))]

namespace Calc.Cache.Tests;

/// <summary>Our server, started once for the whole test assembly on a free loopback port.</summary>
public class CacheServerFixture : IAsyncLifetime
{
    private readonly CacheServerOptions _options;
    private CacheServer? _server;

    public CacheServerFixture()
        : this(new CacheServerOptions { Port = 0 })
    {
    }

    /// <summary>For fixtures that need a server with other options (one per test class that asks for it).</summary>
    protected CacheServerFixture(CacheServerOptions options) => _options = options;

    public int Port => _server!.Port;

    public async ValueTask InitializeAsync() => _server = await CacheServer.StartAsync(_options);

    public async ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

internal static class Tools
{
    public static string? Find(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(':')
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

    /// <summary>A prefix no other test uses, so tests sharing one server never see each other's keys.</summary>
    public static string UniquePrefix() => "t" + Guid.NewGuid().ToString("N")[..12];
}
