using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Calc.Cache.Server;
using Calc.Cache.Tests;

[assembly: AssemblyFixture(typeof(CacheServerFixture))]
[assembly: AssemblyFixture(typeof(RedisServerFixture))]

namespace Calc.Cache.Tests;

/// <summary>Our server, started once for the whole test assembly on a free loopback port.</summary>
public sealed class CacheServerFixture : IAsyncLifetime
{
    private CacheServer? _server;

    public int Port => _server!.Port;

    public async ValueTask InitializeAsync() => _server = await CacheServer.StartAsync(new CacheServerOptions { Port = 0 });

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

/// <summary>A real redis-server (Debian package), started once for the test assembly: the reference behaviour.</summary>
public sealed class RedisServerFixture : IAsyncLifetime
{
    private Process? _process;

    public int Port { get; private set; }

    public async ValueTask InitializeAsync()
    {
        var path = Tools.Find("redis-server")
            ?? throw new InvalidOperationException("redis-server was not found: install the Debian package 'redis-server' (apt-get install -y redis-server redis-tools).");
        Port = Tools.FreePort();
        var start = new ProcessStartInfo(path) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning" })
        {
            start.ArgumentList.Add(arg);
        }

        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) when (deadline.Elapsed < TimeSpan.FromSeconds(10) && !_process.HasExited)
            {
                await Task.Delay(50);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
    }
}

internal static class Tools
{
    public static string? Find(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(':')
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A prefix no other test uses, so tests sharing one server never see each other's keys.</summary>
    public static string UniquePrefix() => "t" + Guid.NewGuid().ToString("N")[..12];
}
