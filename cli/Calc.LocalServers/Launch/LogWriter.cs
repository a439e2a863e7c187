namespace Calc.LocalServers.Launch;

/// <summary>
/// The combined log of the launcher (the app host behind <c>calc up</c>): every app's lines on stdout, each prefixed
/// with the app's name (coloured on a terminal), as <c>docker compose up</c> shows its containers. One lock keeps lines whole.
/// </summary>
public sealed class LogWriter
{
    /// <summary>The prefix of the launcher's own lines.</summary>
    public const string Self = "calc";

    private static readonly string[] Colours = ["\u001b[36m", "\u001b[32m", "\u001b[33m", "\u001b[35m", "\u001b[34m", "\u001b[96m", "\u001b[92m", "\u001b[93m"];
    private readonly Lock _gate = new();
    private readonly Dictionary<string, string> _colours = [];
    private readonly bool _colour = !Console.IsOutputRedirected;
    private const int Width = 14;

    /// <summary>A line of the launcher itself.</summary>
    public void Info(string line) => Line(Self, line);

    /// <summary>A line of the child (or server) <paramref name="source"/>.</summary>
    public void Line(string source, string line)
    {
        lock (_gate)
        {
            var name = source.PadRight(Width);
            if (_colour)
            {
                if (!_colours.TryGetValue(source, out var colour))
                {
                    colour = source == Self ? "\u001b[1m" : Colours[_colours.Count % Colours.Length];
                    _colours[source] = colour;
                }

                Console.Out.WriteLine($"{colour}{name} |\u001b[0m {line}");
            }
            else
            {
                Console.Out.WriteLine($"{name} | {line}");
            }
        }
    }
}
