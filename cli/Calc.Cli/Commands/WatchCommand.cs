using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Calc.Cli.Output;
using Spectre.Console;

namespace Calc.Cli.Commands;

/// <summary>
/// <c>calc watch &lt;id&gt;</c> / <c>calc jobs watch &lt;id&gt;</c>: polls the item until it is final, with a progress bar on
/// a terminal (status changes on stderr otherwise), then prints it. Exit 0 when it ended done, 1 when it ended
/// otherwise or <c>--within</c> passed first.
/// </summary>
internal static class WatchCommand
{
    public static readonly Option<int> WithinOption = new("--within")
    {
        Description = "Give up (exit 1) after this many seconds",
        DefaultValueFactory = _ => 600,
        HelpName = "seconds",
    };

    public static Command Create(WorkKind kind)
    {
        var id = new Argument<string>("id") { Description = $"The {kind.Noun}'s id" };
        var command = new Command("watch", $"Wait until a {kind.Noun} is final, showing its progress, then print it") { id, WithinOption };
        command.SetAction(CliContext.Action(async (context, parse, cancellationToken) =>
            await WatchAndPrintAsync(context, kind, parse.GetValue(id)!, parse.GetValue(WithinOption), cancellationToken)));
        return command;
    }

    /// <summary>Waits until the item is final and prints it; the exit code says whether it ended done.</summary>
    public static async Task<int> WatchAndPrintAsync(CliContext context, WorkKind kind, string id, int withinSeconds, CancellationToken cancellationToken)
    {
        var item = await WaitAsync(context, kind, id, TimeSpan.FromSeconds(withinSeconds), cancellationToken);
        context.Terminal.WriteItem(item);
        var status = WorkKind.Field(item, "status");
        if (status == WorkKind.Done)
        {
            return ExitCodes.Ok;
        }

        var error = WorkKind.Field(item, "error");
        Terminal.Error($"{kind.Noun} {id} ended {status}" + (error.Length > 0 ? $": {error}" : ""));
        return ExitCodes.WorkFailed;
    }

    private static async Task<JsonNode> WaitAsync(CliContext context, WorkKind kind, string id, TimeSpan within, CancellationToken cancellationToken)
    {
        if (!context.Terminal.CanShowProgress)
        {
            string? last = null;
            return await PollAsync(context, kind, id, within, item =>
            {
                var status = WorkKind.Field(item, "status");
                if (status != last)
                {
                    Terminal.Note($"{kind.Noun} {id}: {status}");
                    last = status;
                }
            }, cancellationToken);
        }

        JsonNode? final = null;
        await AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .StartAsync(async progress =>
            {
                var task = progress.AddTask($"{kind.Noun} {Markup.Escape(id)}", maxValue: 100);
                task.IsIndeterminate = true;
                final = await PollAsync(context, kind, id, within, item =>
                {
                    var status = WorkKind.Field(item, "status");
                    task.Description = $"{kind.Noun} {Markup.Escape(id)} [blue]{Markup.Escape(status)}[/]";
                    if (item["progress"] is JsonValue value && value.TryGetValue<int>(out var percent))
                    {
                        task.IsIndeterminate = false;
                        task.Value = percent;
                    }

                    if (WorkKind.IsFinal(status))
                    {
                        task.IsIndeterminate = false;
                        task.Value = 100;
                        task.StopTask();
                    }
                }, cancellationToken);
            });
        return final!;
    }

    private static async Task<JsonNode> PollAsync(CliContext context, WorkKind kind, string id, TimeSpan within, Action<JsonNode> seen, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var delay = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            var item = await context.Gateway.GetAsync(kind.ItemPath(id), cancellationToken);
            seen(item);
            if (WorkKind.IsFinal(WorkKind.Field(item, "status")))
            {
                return item;
            }

            if (clock.Elapsed > within)
            {
                throw new CliException(ExitCodes.WorkFailed, string.Create(CultureInfo.InvariantCulture,
                    $"gave up watching {kind.Noun} {id} after {within.TotalSeconds:0} s (still {WorkKind.Field(item, "status")})"));
            }

            await Task.Delay(delay, cancellationToken);
            // Short work finishes in milliseconds: start polling fast, then back off to once a second.
            delay = TimeSpan.FromMilliseconds(Math.Min(1000, delay.TotalMilliseconds * 1.5));
        }
    }
}
