using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Calc.LocalServers;

/// <summary>What everything that starts a server process needs (test fixtures, the <c>calc up</c> launcher): a free
/// port, readiness, a watchdog, a kill.</summary>
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
    /// Runs <paramref name="script"/> in a detached shell (its own session, so it outlives this process) with
    /// <c>$1</c> = this process's PID and the given arguments after it. It exists because ProcessExit handlers do
    /// not run when a process is killed (SIGKILL, a crashed test host): the script waits for this PID to go and then
    /// cleans up.
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

    /// <summary>A watchdog that kills <paramref name="child"/> (by PID) once this process is gone; it ends with the child.</summary>
    public static Process KillWhenTestProcessDies(Process child) => StartWatchdog(
        "calc-test-watchdog",
        """
        i=0
        while [ "$i" -lt 86400 ] && [ -d "/proc/$1" ] && [ -d "/proc/$2" ]; do sleep 1; i=$((i+1)); done
        if [ -d "/proc/$2" ]; then kill -9 "$2"; fi
        """,
        child.Id.ToString(CultureInfo.InvariantCulture));

    /// <summary>
    /// A watchdog that stops <paramref name="child"/> once this process is gone: SIGTERM (so an app can deregister and
    /// hand its work back), then SIGKILL after <paramref name="grace"/>. It ends with the child. It polls once a second
    /// and gives up after a week, so it never outlives what it watches by more than that.
    /// </summary>
    public static Process StopWhenThisProcessDies(Process child, TimeSpan grace)
    {
        ArgumentNullException.ThrowIfNull(child);
        return StartWatchdog(
            "calc-watchdog",
            """
            i=0
            while [ "$i" -lt 604800 ] && [ -d "/proc/$1" ] && [ -d "/proc/$2" ]; do sleep 1; i=$((i+1)); done
            if [ -d "/proc/$2" ]; then
              kill -TERM "$2"
              j=0; while [ "$j" -lt "$3" ] && [ -d "/proc/$2" ]; do sleep 1; j=$((j+1)); done
              if [ -d "/proc/$2" ]; then kill -9 "$2"; fi
            fi
            """,
            child.Id.ToString(CultureInfo.InvariantCulture),
            ((int)Math.Ceiling(grace.TotalSeconds)).ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>Sends <paramref name="signal"/> (e.g. <c>TERM</c>, <c>INT</c>) to the process with <paramref name="pid"/>.</summary>
    public static void Signal(int pid, string signal)
    {
        using var kill = Process.Start("kill", ["-s", signal, pid.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit(5000);
    }

    /// <summary>True while a process with <paramref name="pid"/> exists (a zombie counts until it is reaped).</summary>
    public static bool IsAlive(int pid) => Directory.Exists($"/proc/{pid}");

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
