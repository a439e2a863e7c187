using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Calc.Cli.Output;

namespace Calc.Cli.Commands;

/// <summary>
/// <c>calc jobs budget &lt;days&gt; &lt;budget&gt;</c>: submits a budget job (seed 001: the budget split exactly over the days
/// online); prints its id or, with <c>--watch</c>, waits for the distribution.
/// </summary>
internal static class BudgetCommand
{
    public static Command Create()
    {
        var days = new Argument<int>("days") { Description = "Days online (the result expires after them)" };
        var budget = new Argument<string>("budget") { Description = "The budget, with at most two decimals (e.g. 100.00)" };
        var jobId = new Option<string?>("--id") { Description = "Your own job id (409 when in use)" };
        var priority = new Option<string?>("--priority") { Description = "normal or high" };
        var timeout = new Option<int?>("--timeout") { Description = "Seconds processing may take", HelpName = "seconds" };
        var watch = new Option<bool>("--watch", "-w") { Description = "Wait for the result and print it (exit 1 unless it ends done)" };
        var command = new Command("budget", "Submit a budget job; prints its id (or, with --watch, its result)")
        {
            days, budget, jobId, priority, timeout, watch, WatchCommand.WithinOption,
        };
        command.SetAction(CliContext.Action(async (context, parse, cancellationToken) =>
        {
            var amount = parse.GetValue(budget)!;
            var body = new JsonObject
            {
                ["daysOnline"] = parse.GetValue(days),
                ["budget"] = decimal.TryParse(amount, NumberStyles.Number, CultureInfo.InvariantCulture, out var value) ? JsonValue.Create(value) : JsonValue.Create(amount),
            };
            if (parse.GetValue(jobId) is { Length: > 0 } id)
            {
                body["jobId"] = id;
            }

            if (parse.GetValue(priority) is { Length: > 0 } level)
            {
                body["priority"] = level;
            }

            if (parse.GetValue(timeout) is { } seconds)
            {
                body["timeoutSeconds"] = seconds;
            }

            var created = await context.Gateway.PostAsync("/jobs/budget", body, cancellationToken);
            var createdId = WorkKind.Field(created, "id");
            if (parse.GetValue(watch))
            {
                Terminal.Note($"job {createdId} queued");
                return await WatchCommand.WatchAndPrintAsync(context, WorkKind.Jobs, createdId, parse.GetValue(WatchCommand.WithinOption), cancellationToken);
            }

            if (context.Terminal.Json)
            {
                Terminal.WriteJson(created);
            }
            else
            {
                Terminal.WriteValue(createdId);
            }

            return ExitCodes.Ok;
        }));
        return command;
    }
}
