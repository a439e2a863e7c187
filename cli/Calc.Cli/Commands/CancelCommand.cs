using System.CommandLine;

namespace Calc.Cli.Commands;

/// <summary><c>calc cancel &lt;id&gt;</c> / <c>calc jobs cancel &lt;id&gt;</c>: cancels work that is not final yet (409 otherwise).</summary>
internal static class CancelCommand
{
    public static Command Create(WorkKind kind)
    {
        var id = new Argument<string>("id") { Description = $"The {kind.Noun}'s id" };
        var command = new Command("cancel", $"Cancel a {kind.Noun} that is not final yet") { id };
        command.SetAction(CliContext.Action(async (context, parse, cancellationToken) =>
        {
            context.Terminal.WriteItem(await context.Gateway.DeleteAsync(kind.ItemPath(parse.GetValue(id)!), cancellationToken));
            return ExitCodes.Ok;
        }));
        return command;
    }
}
