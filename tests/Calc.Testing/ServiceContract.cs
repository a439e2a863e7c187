using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FastEndpoints;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Calc.Testing;

/// <summary>
/// A service's public contract as the tests hold it: the route table of its README against the endpoints the running
/// app maps, and problem bodies with their per-request values replaced, so that a snapshot of them is stable.
/// </summary>
public static partial class ServiceContract
{
    /// <summary>The repository's root (the folder holding Calc.slnx), found upwards from the test's output folder.</summary>
    public static string SourceRoot { get; } = FindSourceRoot();

    /// <summary>The rows of the <c>## Routes</c> table of a README (path relative to the repository root), sorted.</summary>
    public static IReadOnlyList<RouteRow> ReadmeRoutes(string readme)
    {
        var lines = File.ReadAllLines(Path.Combine(SourceRoot, readme));
        var start = Array.FindIndex(lines, l => l.Trim() == "## Routes");
        if (start < 0)
        {
            throw new InvalidOperationException($"{readme} has no '## Routes' section.");
        }

        var rows = new List<RouteRow>();
        foreach (var line in lines.Skip(start + 1).TakeWhile(l => !l.StartsWith("## ", StringComparison.Ordinal)))
        {
            var match = TableRow().Match(line);
            if (match.Success)
            {
                rows.Add(new RouteRow(match.Groups["method"].Value, match.Groups["path"].Value, match.Groups["endpoint"].Value));
            }
        }

        return Sorted(rows);
    }

    /// <summary>The FastEndpoints endpoints the app maps, as route rows, sorted.</summary>
    public static IReadOnlyList<RouteRow> MappedRoutes(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        var rows =
            from endpoint in services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            let definition = endpoint.Metadata.GetMetadata<EndpointDefinition>()
            where definition is not null
            from method in endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? []
            select new RouteRow(method, "/" + endpoint.RoutePattern.RawText!.TrimStart('/'), definition.EndpointType.Name);
        return Sorted(rows);
    }

    /// <summary>
    /// A problem body with the values that differ per request replaced by placeholders: <c>requestId</c>,
    /// <c>traceId</c>, and <paramref name="ids"/> wherever they appear in strings (instance, detail).
    /// </summary>
    public static JsonObject Normalized(JsonObject problem, params string[] ids)
    {
        ArgumentNullException.ThrowIfNull(problem);
        var copy = problem.DeepClone().AsObject();
        foreach (var volatileField in new[] { "requestId", "traceId" })
        {
            if (copy.ContainsKey(volatileField))
            {
                copy[volatileField] = $"<{volatileField}>";
            }
        }

        foreach (var (key, value) in copy.ToList())
        {
            if (value is JsonValue text && text.TryGetValue<string>(out var s))
            {
                copy[key] = ids.Aggregate(s, (current, id) => current.Replace(id, "<id>", StringComparison.Ordinal));
            }
        }

        return copy;
    }

    private static List<RouteRow> Sorted(IEnumerable<RouteRow> rows) =>
        [.. rows.OrderBy(r => r.Path, StringComparer.Ordinal).ThenBy(r => r.Method, StringComparer.Ordinal)];

    private static string FindSourceRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Calc.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Calc.slnx not found above " + AppContext.BaseDirectory);
    }

    // | GET | `/calculations/{id}` | `GetCalculation` |
    [GeneratedRegex(@"^\|\s*(?<method>[A-Z]+)\s*\|\s*`(?<path>[^`]+)`\s*\|\s*`(?<endpoint>[^`]+)`\s*\|\s*$")]
    private static partial Regex TableRow();
}

/// <summary>One row of a route table.</summary>
/// <param name="Method">The HTTP method.</param>
/// <param name="Path">The route template, e.g. <c>/calculations/{id}</c>.</param>
/// <param name="Endpoint">The endpoint class.</param>
public sealed record RouteRow(string Method, string Path, string Endpoint);
