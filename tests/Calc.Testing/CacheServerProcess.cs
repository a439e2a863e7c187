using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Xunit;

namespace Calc.Testing;

/// <summary>
/// The cache server (<c>cache/Calc.Cache</c>, from its build output) as a real process on a free loopback port;
/// usable as an xunit.v3 assembly fixture. It can be killed and started again on the same port, as in an outage.
/// Set <c>CALC_TEST_CACHE_SERVER</c> to the path of another RESP server that takes <c>--port</c>/<c>--bind</c>
/// (e.g. <c>/usr/bin/redis-server</c>) to run the same tests against it.
/// </summary>
public sealed class CacheServerProcess : IAsyncLifetime
{
    /// <summary>Environment variable naming another server binary to start instead of Calc.Cache.</summary>
    public const string ServerVariable = "CALC_TEST_CACHE_SERVER";

    private readonly StringBuilder _output = new();
    private Process? _process;

    /// <summary>The port the server listens on (kept across restarts).</summary>
    public int Port { get; private set; }

    /// <summary><c>127.0.0.1:port</c>, the form of <c>Cache:Endpoint</c>.</summary>
    public string Endpoint => string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{Port}");

    /// <summary>What the server printed (for assertion messages).</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts the server on a free port.</summary>
    public async ValueTask InitializeAsync()
    {
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        await StartAsync();
    }

    /// <summary>Starts the server (again) on <see cref="Port"/> and waits until it accepts connections.</summary>
    public async Task StartAsync()
    {
        var custom = Environment.GetEnvironmentVariable(ServerVariable);
        var start = string.IsNullOrWhiteSpace(custom)
            ? new ProcessStartInfo("dotnet") { ArgumentList = { BuildOutput.Find("cache/Calc.Cache") } }
            : new ProcessStartInfo(custom) { ArgumentList = { "--save", "", "--appendonly", "no" } };
        foreach (var argument in new[] { "--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1" })
        {
            start.ArgumentList.Add(argument);
        }

        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the cache server.");
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) when (deadline.Elapsed < TimeSpan.FromSeconds(20) && !process.HasExited)
            {
                await Task.Delay(50);
            }
            catch (SocketException exception)
            {
                throw new InvalidOperationException($"The cache server did not start on port {Port}:\n{Output}", exception);
            }
        }
    }

    /// <summary>Kills the server at once (SIGKILL); its data is gone, as after a crash.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        _process = null;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await KillAsync();

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            if (_output.Length > 100_000)
            {
                _output.Remove(0, 50_000);
            }

            _output.AppendLine(line);
        }
    }
}

/// <summary>Finds an app's build output in the configuration and framework the tests were built in.</summary>
internal static class BuildOutput
{
    public static string Find(string projectDirectory)
    {
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var framework = testOutput.Name;
        var configuration = testOutput.Parent!.Name;
        var root = testOutput;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Calc.slnx")))
        {
            root = root.Parent;
        }

        if (root is null)
        {
            throw new InvalidOperationException("Could not find the repository root (Calc.slnx) above " + AppContext.BaseDirectory);
        }

        var name = Path.GetFileName(projectDirectory.TrimEnd('/'));
        var assembly = Path.Combine(root.FullName, projectDirectory, "bin", configuration, framework, name + ".dll");
        return File.Exists(assembly)
            ? assembly
            : throw new FileNotFoundException($"Build {projectDirectory} ({configuration}) first: {assembly} does not exist.", assembly);
    }
}
