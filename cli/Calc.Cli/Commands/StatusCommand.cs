using System.CommandLine;
using System.Text.Json.Nodes;

namespace Calc.Cli.Commands;

/// <summary><c>calc status</c>: the gateway's view of the cluster (GET /status): each service's instances, load and circuits.</summary>
internal static class StatusCommand
{
    private static readonly string[] Columns = ["SERVICE", "INSTANCE", "URL", "CAPACITY", "PROCESSING", "LOAD", "IN_FLIGHT", "CIRCUIT"];

    public static Command Create()
    {
        var command = new Command("status", "Show the cluster as the gateway sees it: services, instances, load, circuits");
        command.SetAction(CliContext.Action(async (context, _, cancellationToken) =>
        {
            var status = await context.Gateway.GetAsync("/status", cancellationToken);
            var rows = new List<IReadOnlyList<string>>();
            foreach (var service in (status["services"] as JsonArray ?? []).OfType<JsonObject>())
            {
                var name = WorkKind.Field(service, "service");
                var instances = (service["instances"] as JsonArray ?? []).OfType<JsonObject>().ToList();
                if (instances.Count == 0)
                {
                    rows.Add([name, "-", "-", "0", "0", "0", "0", "-"]);
                }

                rows.AddRange(instances.Select(i => (IReadOnlyList<string>)
                [
                    name, WorkKind.Field(i, "instanceId"), WorkKind.Field(i, "baseUrl"), WorkKind.Field(i, "capacity"),
                    WorkKind.Field(i, "processing"), WorkKind.Field(i, "load"), WorkKind.Field(i, "inFlight"), WorkKind.Field(i, "circuit"),
                ]));
            }

            context.Terminal.WriteTable(status, Columns, rows, $"registry: {WorkKind.Field(status, "registry")}");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
