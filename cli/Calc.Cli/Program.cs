using System.CommandLine;
using Calc.Cli;
using Calc.Cli.Commands;
using Calc.Cli.Output;
using Calc.Cli.Up;

// `calc`: the gateway's API from the command line, and `calc up`, which starts the whole system on this machine.
// Exit codes (ExitCodes.cs): 0 ok, 1 work failed or timed out, 2 usage error or refused request, 3 system unavailable.
var calculations = WorkKind.Calculations;
var root = new RootCommand("Calc: submit calculations and jobs through the gateway, watch them, and run the whole system locally")
{
    CliContext.GatewayOption,
    CliContext.JsonOption,
    SubmitCommand.Create(),
    StepByStepCommands.Create(),
    StepByStepCommands.AddTerms(),
    StepByStepCommands.Finalize(),
    GetCommand.Create(calculations),
    WatchCommand.Create(calculations),
    ListCommand.Create(calculations),
    CancelCommand.Create(calculations),
    new Command("jobs", "Budget jobs: submit, get, watch, list, cancel")
    {
        BudgetCommand.Create(),
        GetCommand.Create(WorkKind.Jobs),
        WatchCommand.Create(WorkKind.Jobs),
        ListCommand.Create(WorkKind.Jobs),
        CancelCommand.Create(WorkKind.Jobs),
    },
    StatusCommand.Create(),
    UpCommand.Create(),
};

var parse = root.Parse(args);
if (parse.Errors.Count > 0)
{
    foreach (var error in parse.Errors)
    {
        Terminal.Error(error.Message);
    }

    Terminal.Note("Run 'calc --help' (or 'calc <command> --help') for usage.");
    return ExitCodes.Usage;
}

// No termination timeout: `calc up` handles SIGINT/SIGTERM itself (its shutdown takes longer than a default would allow);
// other commands simply end on Ctrl+C.
return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
