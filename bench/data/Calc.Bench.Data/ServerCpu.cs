using System.Globalization;

namespace Calc.Bench.Data;

/// <summary>CPU time of a server process and its children (PostgreSQL's backends), from /proc, in seconds.</summary>
internal static class ServerCpu
{
    private static readonly double TicksPerSecond = 100; // USER_HZ on Linux.

    public static double Seconds(int? rootPid)
    {
        if (rootPid is not { } root)
        {
            return 0;
        }

        double ticks = 0;
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(directory, "stat"));
            }
            catch (IOException)
            {
                continue;
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }

            // "pid (comm) state ppid ..." where comm may hold spaces: fields are counted after the last ')'.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var parent = int.Parse(fields[1], CultureInfo.InvariantCulture);
            if (pid == root || parent == root)
            {
                ticks += long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            }
        }

        return ticks / TicksPerSecond;
    }
}
