using System.Diagnostics;
using Calc.LocalServers;
using Calc.Testing;

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
        await using var server = await CacheServerProcess.StartNewAsync("--enable-debug-command", "yes");
        await using var busy = await RawConnection.OpenAsync(server.Port);
        await using var probe = await RawConnection.OpenAsync(server.Port);
        await probe.SendAsync("PING\r\n");
        (await probe.ReadAsync(7)).ShouldBe("+PONG\r\n");
        await busy.SendAsync("DEBUG SLEEP 60\r\n");
        await Task.Delay(500, Token); // DEBUG SLEEP now holds its event loop

        var watch = Stopwatch.StartNew();
        ProcessTools.Signal(server.Process.Id, "TERM");
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(Token);
        limit.CancelAfter(ExitBudget + TimeSpan.FromSeconds(10));
        await server.Process.WaitForExitAsync(limit.Token);

        watch.Elapsed.ShouldBeLessThan(ExitBudget, server.Output);
        server.Process.ExitCode.ShouldBe(0);
    }

    [Fact]
    public async Task A_write_made_just_before_sigterm_is_in_the_append_only_file_after_a_forced_exit()
    {
        var dir = Directory.CreateTempSubdirectory("calc-cache-shutdown-").FullName;
        try
        {
            await using var server = await CacheServerProcess.StartNewAsync("--enable-debug-command", "yes", "--appendonly", "yes", "--dir", dir);
            await using var writer = await RawConnection.OpenAsync(server.Port);
            await using var busy = await RawConnection.OpenAsync(server.Port);
            var key = Tools.UniquePrefix();
            await writer.SendAsync($"SET {key} survived\r\n");
            (await writer.ReadAsync(5)).ShouldBe("+OK\r\n");
            await busy.SendAsync("DEBUG SLEEP 60\r\n");
            await Task.Delay(300, Token);

            ProcessTools.Signal(server.Process.Id, "TERM");
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(Token);
            limit.CancelAfter(ExitBudget + TimeSpan.FromSeconds(10));
            await server.Process.WaitForExitAsync(limit.Token);

            var log = await File.ReadAllTextAsync(Path.Combine(dir, "appendonly.aof"), Token);
            log.ShouldContain(key);
            log.ShouldContain("survived");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
