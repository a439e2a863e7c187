using System.Reflection;
using System.Text.Json;
using Calc.Gateway.FastLane;

namespace Calc.Gateway.UnitTests;

/// <summary>
/// The gateway routes; it stores nothing, queues nothing and computes nothing. These guard what it ships with: a
/// package that puts a broker client, a database driver or the big-number interop back into Calc.Core (which the
/// gateway references) fails here, not in a container that is suddenly larger.
/// </summary>
public sealed class GatewayDependencyTests
{
    /// <summary>Name prefixes of what the gateway must not carry, and why it would have come.</summary>
    private static readonly string[] Forbidden =
    [
        "RabbitMQ.Client", // the job queue (Calc.Jobs)
        "Npgsql", // PostgreSQL (Calc.Data.Marten)
        "Marten",
        "Microsoft.Data.Sqlite", // SQLite (Calc.Data.Sqlite)
        "SQLitePCLRaw",
        "Calc.Numerics", // the GMP interop (Calc.Calculations)
    ];

    [Fact]
    public void The_gateway_deps_json_lists_no_broker_database_driver_or_GMP_interop()
    {
        var libraries = ReadDepsLibraries(FindGatewayDepsJson());

        libraries.ShouldContain(name => name.StartsWith("Calc.Core/", StringComparison.Ordinal), "the check reads the gateway's real dependency graph");
        libraries.Where(IsForbidden).ShouldBeEmpty();
    }

    [Fact]
    public void The_gateway_assembly_and_everything_it_references_name_no_broker_database_driver_or_GMP_interop()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<AssemblyName>([typeof(FastLaneTransportFactory).Assembly.GetName()]);
        while (pending.TryPop(out var name))
        {
            if (!seen.Add(name.Name!) || name.Name!.StartsWith("System", StringComparison.Ordinal) || name.Name.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal))
            {
                continue;
            }

            foreach (var reference in Assembly.Load(name).GetReferencedAssemblies())
            {
                pending.Push(reference);
            }
        }

        seen.ShouldContain("Calc.Core");
        seen.Where(IsForbidden).ShouldBeEmpty();
    }

    private static bool IsForbidden(string name) => Forbidden.Any(prefix => name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase));

    /// <summary>"name/version" of every library in a deps.json.</summary>
    private static List<string> ReadDepsLibraries(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        return [.. document.RootElement.GetProperty("libraries").EnumerateObject().Select(library => library.Name)];
    }

    /// <summary>The deps.json the gateway runs with: next to its assembly here, or in its own build output.</summary>
    private static string FindGatewayDepsJson()
    {
        var here = Path.Combine(AppContext.BaseDirectory, "Calc.Gateway.deps.json");
        if (File.Exists(here))
        {
            return here;
        }

        // tests/Calc.Gateway.UnitTests/bin/<configuration>/<framework>/ → gateway/Calc.Gateway/bin/<configuration>/<framework>/
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var framework = output.Name;
        var configuration = output.Parent!.Name;
        var root = output.Parent.Parent!.Parent!.Parent!.Parent!.FullName;
        var built = Path.Combine(root, "gateway", "Calc.Gateway", "bin", configuration, framework, "Calc.Gateway.deps.json");
        File.Exists(built).ShouldBeTrue($"the gateway's deps.json was not found next to the tests or at {built}");
        return built;
    }
}
