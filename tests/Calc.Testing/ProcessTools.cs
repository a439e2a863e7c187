using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Calc.Testing;

/// <summary>What every fixture that starts a server process needs: a free port, readiness, a watchdog, a kill.</summary>
public static class ProcessTools
{
    /// <summary>A loopback port free at this moment (a server may still lose it to a race: callers retry).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Waits until <paramref name="port"/> accepts TCP connections, failing early when the process exits.</summary>
    public static async Task WaitForTcpAsync(int port, Process process, TimeSpan limit, Func<string> describe)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (clock.Elapsed < limit && !process.HasExited)
            {
                await Task.Delay(50);
            }
            catch (SocketException exception)
            {
                throw new InvalidOperationException($"Nothing accepted connections on port {port} within {limit}:\n{describe()}", exception);
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="script"/> in a detached shell (its own session, so it outlives the test process) with
    /// <c>$1</c> = this test process's PID and the given arguments after it. It exists because ProcessExit handlers do
    /// not run when a test host is killed: the script waits for this PID to go and then cleans up.
    /// </summary>
    public static Process StartWatchdog(string name, string script, params string[] arguments)
    {
        var setsid = File.Exists("/usr/bin/setsid");
        var start = new ProcessStartInfo(setsid ? "/usr/bin/setsid" : "/bin/sh") { UseShellExecute = false };
        string[] all =
        [
            .. setsid ? ["/bin/sh"] : Array.Empty<string>(),
            "-c", "exec </dev/null >/dev/null 2>&1\n" + script, name,
            Environment.ProcessId.ToString(CultureInfo.InvariantCulture),
            .. arguments,
        ];
        foreach (var argument in all)
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start) ?? throw new InvalidOperationException($"Could not start the watchdog {name}.");
    }

    /// <summary>A watchdog that kills <paramref name="child"/> (by PID) once the test process is gone; it ends with the child.</summary>
    public static Process KillWhenTestProcessDies(Process child) => StartWatchdog(
        "calc-test-watchdog",
        """
        i=0
        while [ "$i" -lt 86400 ] && [ -d "/proc/$1" ] && [ -d "/proc/$2" ]; do sleep 1; i=$((i+1)); done
        if [ -d "/proc/$2" ]; then kill -9 "$2"; fi
        """,
        child.Id.ToString(CultureInfo.InvariantCulture));

    /// <summary>Kills a process we started (by its PID, with its children), waits for it and forgets it.</summary>
    public static void Kill(ref Process? process)
    {
        if (process is null)
        {
            return;
        }

        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // It had already ended.
        }

        process.Dispose();
        process = null;
    }
}
