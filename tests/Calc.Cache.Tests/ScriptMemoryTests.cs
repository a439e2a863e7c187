using System.Diagnostics;
using System.Globalization;
using Calc.Testing;
using StackExchange.Redis;

namespace Calc.Cache.Tests;

/// <summary>
/// lua-max-memory: a script that allocates without end gets an out-of-memory error within seconds, the server process
/// stays small and up, and the next script runs. The server is a child process (its default 64mb limit) so its peak
/// resident memory (VmHWM) is its own; a guard kills it if it ever grows past the bound, so an uncapped run fails the
/// test instead of taking the machine's memory.
/// </summary>
public sealed class ScriptMemoryTests(CacheServerProcess server) : IClassFixture<CacheServerProcess>
{
    /// <summary>The process's peak resident memory must stay under this: the default cap is 64 MB, every script here asks for gigabytes.</summary>
    private const long RssBoundBytes = 768L * 1024 * 1024;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 1e6) end return #t")]
    [InlineData("local t = {} for i = 1, 1e10 do t[i] = i end return #t")]
    [InlineData("return #string.rep('x', 2^30)")] // the largest power of two under Lua's own string size limit (2^31)
    [InlineData("local s = 'x' while true do s = s .. s end")]
    public async Task A_script_past_lua_max_memory_gets_an_error_and_the_server_stays_small_and_serves_the_next_script(string script)
    {
        await using var redis = await Clients.ConnectAsync(server.Port, o => o.AsyncTimeout = o.SyncTimeout = 60_000);
        var db = redis.GetDatabase();
        (await db.ScriptEvaluateAsync("return 1")).ToString().ShouldBe("1"); // the interpreter exists before the guard starts

        using var guardDone = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var guard = Task.Run(() => GuardAsync(server.Process, guardDone.Token), Token);
        var watch = Stopwatch.StartNew();
        RedisServerException? error;
        try
        {
            error = await Should.ThrowAsync<RedisServerException>(() => db.ScriptEvaluateAsync(script));
        }
        finally
        {
            await guardDone.CancelAsync();
        }

        var killedByGuard = await guard;
        killedByGuard.ShouldBeFalse($"the server passed {RssBoundBytes} bytes resident and was killed");
        error.Message.ShouldStartWith("ERR Lua out of memory: the script needed more than lua-max-memory (67108864 bytes)");
        watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(30), "the error should come long before script-max-time (60 s)");
        PeakResidentBytes(server.Process.Id).ShouldBeLessThan(RssBoundBytes);

        (await db.ExecuteAsync("PING")).Text().ShouldBe("PONG");
        (await db.ScriptEvaluateAsync("return #string.rep('y', 1000)")).ToString().ShouldBe("1000");
        var info = (string)(await db.ExecuteAsync("INFO", "memory"))!;
        var luaBytes = long.Parse(info.Split("\r\n").Single(l => l.StartsWith("used_memory_lua:", StringComparison.Ordinal))["used_memory_lua:".Length..], CultureInfo.InvariantCulture);
        luaBytes.ShouldBeLessThan(4L * 1024 * 1024, "the stopped script's memory should have been collected");
    }

    [Fact]
    public async Task Lua_max_memory_is_read_and_set_through_config_and_a_lower_limit_applies_to_the_next_script()
    {
        await using var redis = await Clients.ConnectAsync(server.Port);
        var db = redis.GetDatabase();
        (await db.ExecuteAsync("CONFIG", "GET", "lua-max-memory")).Elements()[1].Text().ShouldBe("67108864");
        (await Should.ThrowAsync<RedisServerException>(() => db.ExecuteAsync("CONFIG", "SET", "lua-max-memory", "1000")))
            .Message.ShouldContain("at least 1mb");

        try
        {
            (await db.ExecuteAsync("CONFIG", "SET", "lua-max-memory", "4mb")).Text().ShouldBe("OK");
            (await db.ExecuteAsync("CONFIG", "GET", "lua-max-memory")).Elements()[1].Text().ShouldBe("4194304");
            (await Should.ThrowAsync<RedisServerException>(() => db.ScriptEvaluateAsync("return #string.rep('x', 8 * 1024 * 1024)")))
                .Message.ShouldStartWith("ERR Lua out of memory: the script needed more than lua-max-memory (4194304 bytes)");
            (await db.ScriptEvaluateAsync("return #string.rep('x', 1024 * 1024)")).ToString().ShouldBe("1048576");
        }
        finally
        {
            await db.ExecuteAsync("CONFIG", "SET", "lua-max-memory", "64mb");
        }

        (await db.ScriptEvaluateAsync("return #string.rep('x', 8 * 1024 * 1024)")).ToString().ShouldBe("8388608");
    }

    /// <summary>Polls the server's resident memory; kills it (and answers true) once it passes the bound.</summary>
    private static async Task<bool> GuardAsync(Process process, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            if (ResidentBytes(process.Id, "VmRSS:") > RssBoundBytes)
            {
                process.Kill();
                return true;
            }

            try
            {
                await Task.Delay(10, stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return false;
    }

    private static long PeakResidentBytes(int pid) => ResidentBytes(pid, "VmHWM:");

    /// <summary>A /proc/PID/status line in bytes (the kernel writes kB).</summary>
    private static long ResidentBytes(int pid, string field)
    {
        var line = File.ReadLines($"/proc/{pid}/status").Single(l => l.StartsWith(field, StringComparison.Ordinal));
        return long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
    }
}
