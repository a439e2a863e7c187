using System.Diagnostics;
using System.Globalization;
using System.Text;
using Calc.LocalServers;

namespace Calc.Cache.Tests;

/// <summary>The server as a real process: SIGTERM ends it within shutdown-timeout even while a command still runs.</summary>
public class ProcessShutdownTests
{
    /// <summary>shutdown-timeout's default (3 s) plus slack for a loaded machine.</summary>
    private static readonly TimeSpan ExitBudget = TimeSpan.FromSeconds(6);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Sigterm_ends_the_process_within_seconds_while_a_long_command_runs()
    {
        var port = ProcessTools.FreePort();
        var output = new StringBuilder();
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { BuildOutput.Find("cache/Calc.Cache"), "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--enable-debug-command", "yes" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var watchdog = ProcessTools.KillWhenTestProcessDies(process);
        try
        {
            await ProcessTools.WaitForTcpAsync(port, process, TimeSpan.FromSeconds(30), () => { lock (output) { return output.ToString(); } });
            await using var busy = await RawConnection.OpenAsync(port);
            await using var probe = await RawConnection.OpenAsync(port);
            await probe.SendAsync("PING\r\n");
            (await probe.ReadAsync(7)).ShouldBe("+PONG\r\n");
            await busy.SendAsync("DEBUG SLEEP 60\r\n");
            await Task.Delay(500, Token); // DEBUG SLEEP now holds its event loop

            var watch = Stopwatch.StartNew();
            ProcessTools.Signal(process.Id, "TERM");
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(Token);
            limit.CancelAfter(ExitBudget + TimeSpan.FromSeconds(10));
            await process.WaitForExitAsync(limit.Token);

            string printed;
            lock (output)
            {
                printed = output.ToString();
            }

            watch.Elapsed.ShouldBeLessThan(ExitBudget, printed);
            process.ExitCode.ShouldBe(0);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }
}
