using System.CommandLine;
using System.Text.Json.Nodes;
using Calc.Cli.Gateway;
using Calc.Cli.Output;

namespace Calc.Cli.Commands;

/// <summary>
/// <c>calc submit &lt;type&gt; &lt;init&gt; [terms...]</c>: seed 000's whole sequence in one go (create, one PUT per term,
/// finalize), then either prints the id or, with <c>--watch</c>, waits for the result.
/// </summary>
internal static class SubmitCommand
{
    public static Command Create()
    {
        var type = CalculationInput.TypeArgument();
        var init = CalculationInput.InitArgument();
        var terms = new Argument<string[]>("terms") { Description = "Terms folded in from the left (none for factorial)", Arity = ArgumentArity.ZeroOrMore };
        var watch = new Option<bool>("--watch", "-w") { Description = "Wait for the result and print it (exit 1 unless it ends done)" };
        var command = new Command("submit", "Create a calculation, add its terms and finalize it in one go; prints its id (or, with --watch, its result)")
        {
            type, init, terms, CalculationInput.Priority, CalculationInput.Timeout, CalculationInput.Callback, watch, WatchCommand.WithinOption,
        };
        command.SetAction(CliContext.Action(async (context, parse, cancellationToken) =>
        {
            var gateway = context.Gateway;
            var created = await gateway.PostAsync("/calculations", CalculationInput.CreateBody(parse, parse.GetValue(type)!, parse.GetValue(init)!), cancellationToken);
            var id = WorkKind.Field(created, "id");
            var kind = WorkKind.Calculations;
            try
            {
                foreach (var term in parse.GetValue(terms) ?? [])
                {
                    await gateway.PutAsync(kind.ItemPath(id), new JsonObject { ["term"] = CalculationInput.Number(term) }, cancellationToken);
                }
            }
            catch (CliException exception)
            {
                // A refused term leaves a half-built calculation nobody will finish: cancel it (best effort).
                var cancelled = await TryCancelAsync(gateway, kind.ItemPath(id));
                throw new CliException(exception.ExitCode, $"{exception.Message}\n  calculation {id} {(cancelled ? "was cancelled" : "is left building")}");
            }

            JsonNode finalized;
            try
            {
                finalized = await gateway.PutAsync(kind.ItemPath(id) + "/finalize", null, cancellationToken);
            }
            catch (CliException exception)
            {
                // At capacity the calculation stays building: say which one, so the user can finalize it later.
                throw new CliException(exception.ExitCode, $"{exception.Message}\n  calculation {id} is still building: `calc finalize {id}` tries again");
            }

            if (parse.GetValue(watch))
            {
                Terminal.Note($"calculation {id} submitted");
                return await WatchCommand.WatchAndPrintAsync(context, kind, id, parse.GetValue(WatchCommand.WithinOption), cancellationToken);
            }

            if (context.Terminal.Json)
            {
                Terminal.WriteJson(finalized);
            }
            else
            {
                Terminal.WriteValue(id);
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static async Task<bool> TryCancelAsync(GatewayClient gateway, string path)
    {
        try
        {
            await gateway.DeleteAsync(path, CancellationToken.None);
            return true;
        }
        catch (CliException)
        {
            return false;
        }
    }
}
