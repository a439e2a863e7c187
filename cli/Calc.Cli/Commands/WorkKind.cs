using System.Text.Json.Nodes;
using Calc.Cli.Output;

namespace Calc.Cli.Commands;

/// <summary>
/// Calculations and jobs share their shape (create, get, list with a status filter and paging, cancel, a life that
/// ends done, failed, timed_out or cancelled): the commands that only read or cancel work take the kind.
/// </summary>
internal sealed record WorkKind(string Noun, string Path, IReadOnlyList<string> Columns, Func<JsonNode, IReadOnlyList<string>> Row)
{
    public const string Done = "done";

    private static readonly string[] FinalStatuses = [Done, "failed", "timed_out", "cancelled"];

    public static WorkKind Calculations { get; } = new(
        "calculation",
        "/calculations",
        ["ID", "TYPE", "STATUS", "PRIORITY", "RESULT", "CREATED"],
        item => [Field(item, "id"), Field(item, "type"), Field(item, "status"), Field(item, "priority"), Field(item, "result"), Field(item, "createdAt")]);

    public static WorkKind Jobs { get; } = new(
        "job",
        "/jobs",
        ["ID", "KIND", "STATUS", "PRIORITY", "ATTEMPTS", "CREATED"],
        item => [Field(item, "id"), Field(item, "kind"), Field(item, "status"), Field(item, "priority"), Field(item, "attempts"), Field(item, "createdAt")]);

    public static bool IsFinal(string? status) => status is not null && FinalStatuses.Contains(status);

    public string ItemPath(string id) => $"{Path}/{Uri.EscapeDataString(id)}";

    public static string Field(JsonNode item, string name) => Terminal.Text(item[name]);
}
