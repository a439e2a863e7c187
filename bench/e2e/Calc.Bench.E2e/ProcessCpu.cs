using System.Globalization;

namespace Calc.Bench.E2e;

/// <summary>User+system CPU ticks of named processes, of PostgreSQL as a whole, and of this process, from /proc.</summary>
internal sealed record ProcessCpu(Dictionary<string, long> Ticks)
{
    public const double TicksPerSecond = 100; // USER_HZ on Linux.

    /// <summary>"gateway=123,instance-1=456" as (name, PID) pairs.</summary>
    public static List<(string Name, int Pid)> ParseNames(string list) =>
        [.. list.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(pair =>
        {
            var parts = pair.Split('=');
            return (parts[0], int.Parse(parts[1], CultureInfo.InvariantCulture));
        })];

    public static ProcessCpu Read(IEnumerable<(string Name, int Pid)> processes, int? postmaster)
    {
        var ticks = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (name, pid) in processes)
        {
            ticks[name] = Stat(pid) is { } fields ? UserAndSystem(fields) : 0;
        }

        if (postmaster is { } root)
        {
            ticks["postgres"] = PostgresTicks(root);
        }

        ticks["loadgen"] = Stat(Environment.ProcessId) is { } own ? UserAndSystem(own) : 0;
        return new ProcessCpu(ticks);
    }

    // The postmaster's own time and that of its ended children (cutime, cstime: Npgsql's pools open and close
    // backends), plus every live backend's.
    private static long PostgresTicks(int postmaster)
    {
        long total = 0;
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), CultureInfo.InvariantCulture, out var pid) || Stat(pid) is not { } fields)
            {
                continue;
            }

            if (pid == postmaster)
            {
                total += UserAndSystem(fields) + long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture);
            }
            else if (int.Parse(fields[1], CultureInfo.InvariantCulture) == postmaster)
            {
                total += UserAndSystem(fields);
            }
        }

        return total;
    }

    private static long UserAndSystem(string[] fields) =>
        long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);

    // The fields after "pid (comm) ", where comm may hold spaces: fields[0] is the state, [1] the parent, [11] utime.
    private static string[]? Stat(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
