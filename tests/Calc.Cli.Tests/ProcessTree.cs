using System.Globalization;

namespace Calc.Cli.Tests;

/// <summary>
/// The processes a launcher is responsible for, read from /proc: its descendants, and (transitively) every process that
/// watches one of them with <c>--monitor PID</c>, as DCP does (it detaches from the app host and runs the apps and the
/// Aspire dashboard as its own children). Used to check that nothing is left running, never to signal by pattern.
/// </summary>
internal static class ProcessTree
{
    public static IReadOnlyDictionary<int, string> Of(int root)
    {
        var processes = Snapshot();
        var found = new Dictionary<int, string> { [root] = processes.GetValueOrDefault(root).CommandLine ?? "" };
        bool grew;
        do
        {
            grew = false;
            foreach (var (pid, (parent, commandLine)) in processes)
            {
                if (!found.ContainsKey(pid) && (found.ContainsKey(parent) || found.Keys.Any(p => commandLine.Contains(string.Create(CultureInfo.InvariantCulture, $"--monitor {p} "), StringComparison.Ordinal))))
                {
                    found[pid] = commandLine;
                    grew = true;
                }
            }
        }
        while (grew);
        return found;
    }

    /// <summary>The direct children of <paramref name="parent"/> whose command line contains <paramref name="text"/>.</summary>
    public static IReadOnlyList<int> ChildrenOf(int parent, string text) =>
        [.. Snapshot().Where(p => p.Value.Parent == parent && p.Value.CommandLine.Contains(text, StringComparison.Ordinal)).Select(p => p.Key)];

    private static Dictionary<int, (int Parent, string CommandLine)> Snapshot()
    {
        var processes = new Dictionary<int, (int, string)>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                // stat: "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ')'.
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                var commandLine = File.ReadAllText(Path.Combine(directory, "cmdline")).Replace('\0', ' ');
                processes[pid] = (int.Parse(fields[1], CultureInfo.InvariantCulture), commandLine);
            }
            catch (IOException)
            {
                // It ended while being read.
            }
            catch (UnauthorizedAccessException)
            {
                // Not ours to read.
            }
        }

        return processes;
    }
}
