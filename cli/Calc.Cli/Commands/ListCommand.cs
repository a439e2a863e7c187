using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;

namespace Calc.Cli.Commands;

/// <summary><c>calc list</c> / <c>calc jobs list</c>: one page of calculations or jobs, optionally of one status.</summary>
internal static class ListCommand
{
    public static Command Create(WorkKind kind)
    {
        var status = new Option<string?>("--status", "-s") { Description = "Only this status (building, processing, queued, done, failed, timed_out, cancelled)" };
        var page = new Option<int>("--page", "-p") { Description = "Page number, from 1", DefaultValueFactory = _ => 1 };
        var pageSize = new Option<int>("--page-size") { Description = "Items per page", DefaultValueFactory = _ => 20 };
        var command = new Command("list", $"List {kind.Noun}s, newest first") { status, page, pageSize };
        command.SetAction(CliContext.Action(async (context, parse, cancellationToken) =>
        {
            var query = string.Create(CultureInfo.InvariantCulture, $"{kind.Path}?page={parse.GetValue(page)}&pageSize={parse.GetValue(pageSize)}");
            if (parse.GetValue(status) is { Length: > 0 } only)
            {
                query += "&status=" + Uri.EscapeDataString(only);
            }

            var result = await context.Gateway.GetAsync(query, cancellationToken);
            var items = result["items"] as JsonArray ?? [];
            var caption = string.Create(CultureInfo.InvariantCulture,
                $"page {WorkKind.Field(result, "page")}, {items.Count} of {WorkKind.Field(result, "total")} {kind.Noun}s");
            context.Terminal.WriteTable(result, kind.Columns, items.OfType<JsonNode>().Select(kind.Row), caption);
            return ExitCodes.Ok;
        }));
        return command;
    }
}
