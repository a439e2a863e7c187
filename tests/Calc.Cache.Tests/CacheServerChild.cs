using System.Diagnostics;
using System.Globalization;
using System.Text;
using Calc.LocalServers;

namespace Calc.Cache.Tests;

/// <summary>
/// Our server as a child process with the given options, on a free loopback port (for what needs a real process:
/// signals, or a keyspace too big to share the test host's heap). Killed by PID when disposed or when the test host dies.
/// </summary>
internal sealed class CacheServerChild : IAsyncDisposable
{
    private readonly StringBuilder _output = new();
    private Process? _watchdog;

    private CacheServerChild(Process process, int port)
    {
        Process = process;
        Port = port;
        _watchdog = ProcessTools.KillWhenTestProcessDies(process);
    }

    public Process Process { get; }

    public int Port { get; }

    /// <summary>What the server printed so far.</summary>
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

    public static async Task<CacheServerChild> StartAsync(params string[] options)
    {
        var port = ProcessTools.FreePort();
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { BuildOutput.Find("cache/Calc.Cache"), "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var option in options)
        {
            start.ArgumentList.Add(option);
        }

        var child = new CacheServerChild(Process.Start(start)!, port);
        child.Process.OutputDataReceived += (_, e) => child.Append(e.Data);
        child.Process.ErrorDataReceived += (_, e) => child.Append(e.Data);
        child.Process.BeginOutputReadLine();
        child.Process.BeginErrorReadLine();
        try
        {
            await ProcessTools.WaitForTcpAsync(port, child.Process, TimeSpan.FromSeconds(30), () => child.Output);
        }
        catch
        {
            await child.DisposeAsync();
            throw;
        }

        return child;
    }

    public async ValueTask DisposeAsync()
    {
        if (!Process.HasExited)
        {
            Process.Kill(entireProcessTree: true);
            await Process.WaitForExitAsync();
        }

        Process.Dispose();
        ProcessTools.Kill(ref _watchdog);
    }

    private void Append(string? line)
    {
        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}
