using System.Diagnostics;
using System.Globalization;
using Xunit;

namespace Calc.Testing;

/// <summary>
/// The cache server (<c>cache/Calc.Cache</c>, from its build output) as a real process on a free loopback port;
/// usable as an xunit.v3 assembly fixture. It can be killed and started again on the same port, as in an outage.
/// Set <c>CALC_TEST_CACHE_SERVER</c> to the path of another RESP server that takes <c>--port</c>/<c>--bind</c>
/// (e.g. <c>/usr/bin/redis-server</c>) to run the same tests against it. Also usable alone, with extra command-line
/// options, for what needs a real process of its own (signals, a keyspace too big for the test host's heap).
/// </summary>
public sealed class CacheServerProcess : IAsyncLifetime
{
    /// <summary>Environment variable naming another server binary to start instead of Calc.Cache.</summary>
    public const string ServerVariable = "CALC_TEST_CACHE_SERVER";

    private readonly OutputTail _output = new();
    private Process? _process;
    private Process? _watchdog;

    private readonly string[] _options;

    /// <summary>A fixture of the server with its default options (xunit needs this one public constructor).</summary>
    public CacheServerProcess()
        : this([])
    {
    }

    private CacheServerProcess(string[] options) => _options = options;

    /// <summary>The running server process (for signals and its exit code).</summary>
    public Process Process => _process ?? throw new InvalidOperationException("The cache server is not running.");

    /// <summary>The port the server listens on (kept across restarts).</summary>
    public int Port { get; private set; }

    /// <summary><c>127.0.0.1:port</c>, the form of <c>Cache:Endpoint</c>.</summary>
    public string Endpoint => string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{Port}");

    /// <summary>What the server printed (for assertion messages).</summary>
    public string Output => _output.ToString();

    /// <summary>Starts the server with <paramref name="options"/> on a free port; disposing it kills it.</summary>
    /// <param name="options">Command-line options given after <c>--port</c>/<c>--bind</c>.</param>
    public static async Task<CacheServerProcess> StartNewAsync(params string[] options)
    {
        var server = new CacheServerProcess(options);
        try
        {
            await server.InitializeAsync();
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    /// <summary>Starts the server on a free port.</summary>
    public async ValueTask InitializeAsync()
    {
        Port = ProcessTools.FreePort();
        await StartAsync();
    }

    /// <summary>Starts the server (again) on <see cref="Port"/> and waits until it accepts connections.</summary>
    public async Task StartAsync()
    {
        var custom = Environment.GetEnvironmentVariable(ServerVariable);
        var start = string.IsNullOrWhiteSpace(custom)
            ? new ProcessStartInfo("dotnet") { ArgumentList = { BuildOutput.Find("cache/Calc.Cache") } }
            : new ProcessStartInfo(custom) { ArgumentList = { "--save", "", "--appendonly", "no" } };
        foreach (var argument in new[] { "--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1" }.Concat(_options))
        {
            start.ArgumentList.Add(argument);
        }

        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the cache server.");
        _output.Attach(process);
        _process = process;
        _watchdog = ProcessTools.KillWhenTestProcessDies(process);
        await ProcessTools.WaitForTcpAsync(Port, process, TimeSpan.FromSeconds(30), () => Output);
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
        ProcessTools.Kill(ref _watchdog);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await KillAsync();
}
