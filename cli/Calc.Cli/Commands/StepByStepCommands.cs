using System.CommandLine;
using System.Text.Json.Nodes;

namespace Calc.Cli.Commands;

/// <summary>
/// Seed 000's sequence one request at a time: <c>calc create</c> (prints the id), <c>calc add &lt;id&gt; &lt;term&gt;...</c>,
/// <c>calc finalize &lt;id&gt;</c>. Each prints the calculation as the API answered.
/// </summary>
internal static class StepByStepCommands
{
    public static Command Create()
    {
        var type = CalculationInput.TypeArgument();
        var init = CalculationInput.InitArgument();
        var command = new Command("create", "Create a calculation (status building); prints its id")
        {
            type, init, CalculationInput.Priority, CalculationInput.Timeout, CalculationInput.Callback,
        };
        command.SetAction(CliContext.Action(async (context, parse, cancellationToken) =>
        {
            var created = await context.Gateway.PostAsync("/calculations", CalculationInput.CreateBody(parse, parse.GetValue(type)!, parse.GetValue(init)!), cancellationToken);
            if (context.Terminal.Json)
            {
                Output.Terminal.WriteJson(created);
            }
            else
            {
                Output.Terminal.WriteValue(WorkKind.Field(created, "id"));
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    public static Command AddTerms()
    {
        var id = new Argument<string>("id") { Description = "The calculation's id" };
        var terms = new Argument<string[]>("terms") { Description = "Terms to add, in order", Arity = ArgumentArity.OneOrMore };
        var command = new Command("add", "Add terms to a calculation that is still building") { id, terms };
        command.SetAction(CliContext.Action(async (context, parse, cancellationToken) =>
        {
            var path = WorkKind.Calculations.ItemPath(parse.GetValue(id)!);
            JsonNode? last = null;
            foreach (var term in parse.GetValue(terms)!)
            {
                last = await context.Gateway.PutAsync(path, new JsonObject { ["term"] = CalculationInput.Number(term) }, cancellationToken);
            }

            context.Terminal.WriteItem(last!);
            return ExitCodes.Ok;
        }));
        return command;
    }

    public static Command Finalize()
    {
        var id = new Argument<string>("id") { Description = "The calculation's id" };
        var command = new Command("finalize", "Start processing a calculation (503 with Retry-After when no slot is free: try again)") { id };
        command.SetAction(CliContext.Action(async (context, parse, cancellationToken) =>
        {
            context.Terminal.WriteItem(await context.Gateway.PutAsync(WorkKind.Calculations.ItemPath(parse.GetValue(id)!) + "/finalize", null, cancellationToken));
            return ExitCodes.Ok;
        }));
        return command;
    }
}
