using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace Calc.Cli.Output;

/// <summary>
/// Where the CLI writes. Results go to stdout, everything else (progress, notes, errors) to stderr, so that
/// <c>x=$(calc ...)</c> captures only the result. On a terminal results are tables; when stdout is redirected they are
/// plain lines a script can rely on: <c>name: value</c> for one item, tab-separated columns under a header for lists.
/// <c>--json</c> prints the API's JSON as it came.
/// </summary>
internal sealed class Terminal(bool json)
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>True when stdout is a terminal a person reads (and <c>--json</c> is off): tables, colours, progress bars.</summary>
    public bool IsInteractive { get; } = !json && !Console.IsOutputRedirected
        && !string.Equals(Environment.GetEnvironmentVariable("TERM"), "dumb", StringComparison.Ordinal);

    /// <summary>True with <c>--json</c>.</summary>
    public bool Json => json;

    /// <summary>stderr may show live progress (a terminal there, and not a script reading stdout).</summary>
    public bool CanShowProgress => IsInteractive && !Console.IsErrorRedirected;

    /// <summary>A bare value on its own line (an id), whatever the mode.</summary>
    public static void WriteValue(string value) => Console.Out.WriteLine(value);

    /// <summary>A note for the person at the terminal (stderr).</summary>
    public static void Note(string message) => Console.Error.WriteLine(message);

    /// <summary>An error (stderr), prefixed with the program's name as Unix tools do.</summary>
    public static void Error(string message) => Console.Error.WriteLine("calc: " + message);

    /// <summary>One item (a calculation, a job): its fields, nested ones with dotted names.</summary>
    public void WriteItem(JsonNode item)
    {
        if (json)
        {
            WriteJson(item);
            return;
        }

        var fields = Flatten(item).ToList();
        if (IsInteractive)
        {
            var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
            foreach (var (name, value) in fields)
            {
                grid.AddRow(new Markup($"[grey]{Markup.Escape(name)}[/]"), new Markup(Colour(name, Shorten(value, 200))));
            }

            AnsiConsole.Write(grid);
            return;
        }

        foreach (var (name, value) in fields)
        {
            Console.Out.WriteLine($"{name}: {value}");
        }
    }

    /// <summary>Rows under a header: a table on a terminal, tab-separated lines otherwise (the header first).</summary>
    public void WriteTable(JsonNode source, IReadOnlyList<string> columns, IEnumerable<IReadOnlyList<string>> rows, string? caption = null)
    {
        if (json)
        {
            WriteJson(source);
            return;
        }

        if (IsInteractive)
        {
            var table = new Table().Border(TableBorder.Rounded);
            foreach (var column in columns)
            {
                // Ids and addresses are copied from here: never wrap them (other columns give way).
                table.AddColumn(new TableColumn(Markup.Escape(column)) { NoWrap = column is "ID" or "INSTANCE" or "URL" });
            }

            foreach (var row in rows)
            {
                table.AddRow([.. row.Select((value, i) => new Markup(Colour(columns[i], Shorten(Readable(columns[i], value), 40))))]);
            }

            if (caption is not null)
            {
                table.Caption(Markup.Escape(caption));
            }

            AnsiConsole.Write(table);
            return;
        }

        Console.Out.WriteLine(string.Join('\t', columns));
        foreach (var row in rows)
        {
            Console.Out.WriteLine(string.Join('\t', row.Select(v => v.Replace('\t', ' '))));
        }

        if (caption is not null)
        {
            Note(caption);
        }
    }

    /// <summary>The JSON as the API gave it, indented.</summary>
    public static void WriteJson(JsonNode node) => Console.Out.WriteLine(node.ToJsonString(Indented));

    /// <summary>A JSON value as text: strings unquoted, null as empty.</summary>
    public static string Text(JsonNode? node) => node switch
    {
        null => "",
        JsonValue value when value.TryGetValue<string>(out var text) => text,
        JsonValue value => value.ToJsonString(),
        _ => node.ToJsonString(),
    };

    /// <summary>Top-level scalars as they are; nested objects as <c>parent.child</c>; an array of objects one line per element.</summary>
    public static IEnumerable<(string Name, string Value)> Flatten(JsonNode node, string prefix = "")
    {
        if (node is JsonObject obj)
        {
            foreach (var (key, value) in obj)
            {
                var name = prefix.Length == 0 ? key : $"{prefix}.{key}";
                switch (value)
                {
                    case null:
                        continue;
                    case JsonObject:
                        foreach (var field in Flatten(value, name))
                        {
                            yield return field;
                        }

                        break;
                    case JsonArray array:
                        for (var i = 0; i < array.Count; i++)
                        {
                            var element = array[i];
                            var text = element is JsonObject item
                                ? string.Join(' ', item.Where(p => p.Value is not null).Select(p => $"{p.Key}={Text(p.Value)}"))
                                : Text(element);
                            yield return (string.Create(CultureInfo.InvariantCulture, $"{name}[{i}]"), text);
                        }

                        break;
                    default:
                        yield return (name, Text(value));
                        break;
                }
            }
        }
        else
        {
            yield return (prefix.Length == 0 ? "value" : prefix, Text(node));
        }
    }

    // Times to the second for a person (the plain output keeps the API's full ISO 8601 form).
    private static string Readable(string column, string value) =>
        column == "CREATED" && DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.None, out var time)
            ? time.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)
            : value;

    // A person at a terminal gets the ends of a long value (a factorial has millions of digits); a pipe or --json gets all of it.
    private static string Shorten(string value, int limit) => value.Length <= limit
        ? value
        : string.Create(CultureInfo.InvariantCulture, $"{value[..(limit / 2)]}…{value[^(limit / 4)..]} ({value.Length} characters: --json or a pipe prints all)");

    private static string Colour(string name, string value)
    {
        var escaped = Markup.Escape(value);
        if (!name.Equals("status", StringComparison.OrdinalIgnoreCase) && !name.Equals("circuit", StringComparison.OrdinalIgnoreCase))
        {
            return escaped;
        }

        var colour = value switch
        {
            "done" or "closed" => "green",
            "failed" or "timed_out" or "open" or "isolated" => "red",
            "cancelled" or "half_open" => "yellow",
            _ => "blue",
        };
        return $"[{colour}]{escaped}[/]";
    }
}
