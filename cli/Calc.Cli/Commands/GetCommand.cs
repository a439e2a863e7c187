using System.CommandLine;

namespace Calc.Cli.Commands;

/// <summary><c>calc get &lt;id&gt;</c> / <c>calc jobs get &lt;id&gt;</c>: prints one calculation or job as it is now.</summary>
internal static class GetCommand
{
    public static Command Create(WorkKind kind)
    {
        var id = new Argument<string>("id") { Description = $"The {kind.Noun}'s id" };
        var command = new Command("get", $"Print a {kind.Noun}") { id };
        command.SetAction(CliContext.Action(async (context, parse, cancellationToken) =>
        {
            context.Terminal.WriteItem(await context.Gateway.GetAsync(kind.ItemPath(parse.GetValue(id)!), cancellationToken));
            return ExitCodes.Ok;
        }));
        return command;
    }
}
