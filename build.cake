// Calc's build: Pack -> Build (with format check) -> Test, plus Coverage, Run, Bench, Format and Clean. `./build.sh --target=<Task>` (default: Test).
// The internal packages (Calc.Core, Calc.Numerics, Calc.Data.Abstractions and the others below) get a new version on every pack, recorded in
// artifacts/internal-packages.props, which Directory.Packages.props imports: the services then restore exactly
// that version from artifacts/packages, and plain `dotnet build/test/run` use it too.

var target = Argument("target", "Test");
var configuration = Argument("configuration", "Release");
var filter = Argument("filter", "");

var root = MakeAbsolute(Directory("."));
var artifacts = root.Combine("artifacts");
var feed = artifacts.Combine("packages");
var testResults = artifacts.Combine("test-results");
var solution = root.CombineWithFilePath("Calc.slnx");
var internalPackages = new[] {
    "Calc.Core/Calc.Core.csproj",
    "Calc.Numerics/Calc.Numerics.csproj",
    "Calc.Data.Abstractions/Calc.Data.Abstractions.csproj",
    "Calc.Data.Sqlite/Calc.Data.Sqlite.csproj",
    "Calc.Data.Marten/Calc.Data.Marten.csproj",
    "Calc.Data.Mongo/Calc.Data.Mongo.csproj",
    "Calc.Data.Redis/Calc.Data.Redis.csproj",
};

void Run(string tool, string arguments, DirectoryPath workingDirectory = null)
{
    var exit = StartProcess(tool, new ProcessSettings { Arguments = arguments, WorkingDirectory = workingDirectory ?? root });
    if (exit != 0) throw new Exception($"'{tool} {arguments}' failed with exit code {exit}.");
}

bool IsRoot() => Environment.UserName == "root";

// System packages the tests need, by a binary each one provides.
void EnsureSystemPackages(params (string Binary, string Package)[] needs)
{
    var missing = needs.Where(n => !GetFiles(n.Binary).Any()).Select(n => n.Package).Distinct().ToList();
    if (missing.Count == 0) return;
    if (!IsRoot())
        throw new Exception($"Missing system packages: {string.Join(", ", missing)}. Install them (sudo apt-get install -y {string.Join(" ", missing)}) and run again.");
    Information($"Installing system packages: {string.Join(", ", missing)}");
    var env = new Dictionary<string, string> { ["DEBIAN_FRONTEND"] = "noninteractive" };
    if (StartProcess("apt-get", new ProcessSettings { Arguments = "update -q", EnvironmentVariables = env }) != 0)
        Warning("apt-get update failed; trying the install anyway.");
    // The tests start their own throwaway servers: keep the packages' postinst scripts from starting system daemons
    // (redis on 6379, rabbitmq, a postgres cluster) by denying service starts for the length of the install.
    const string policy = "/usr/sbin/policy-rc.d";
    var ownPolicy = !System.IO.File.Exists(policy);
    if (ownPolicy)
    {
        System.IO.File.WriteAllText(policy, "#!/bin/sh\n# Written by Calc's build for one apt-get install: no service starts.\nexit 101\n");
        System.IO.File.SetUnixFileMode(policy, System.IO.UnixFileMode.UserRead | System.IO.UnixFileMode.UserWrite | System.IO.UnixFileMode.UserExecute
            | System.IO.UnixFileMode.GroupRead | System.IO.UnixFileMode.GroupExecute | System.IO.UnixFileMode.OtherRead | System.IO.UnixFileMode.OtherExecute);
    }
    try
    {
        if (StartProcess("apt-get", new ProcessSettings { Arguments = $"install -y -q --no-install-recommends {string.Join(" ", missing)}", EnvironmentVariables = env }) != 0)
            throw new Exception($"apt-get install {string.Join(" ", missing)} failed.");
    }
    finally
    {
        if (ownPolicy) System.IO.File.Delete(policy);
    }
}

Task("Clean")
    .Does(() =>
{
    CleanDirectories("./**/bin");
    CleanDirectories("./**/obj");
    CleanDirectory(testResults);
    DeleteFiles(feed.FullPath + "/*.nupkg");
    DeleteFiles(artifacts.FullPath + "/internal-packages.*");
});

Task("Pack")
    .Does(() =>
{
    EnsureDirectoryExists(feed);
    var versionFile = artifacts.CombineWithFilePath("internal-packages.props");
    var hashFile = artifacts.CombineWithFilePath("internal-packages.hash");
    var projects = internalPackages.Where(p => FileExists(p)).ToList();
    var hash = SourceHash(projects);
    if (FileExists(versionFile) && FileExists(hashFile) && System.IO.File.ReadAllText(hashFile.FullPath) == hash
        && GetFiles(feed.FullPath + "/*.nupkg").Count >= projects.Count)
    {
        Information("Internal packages unchanged since the last pack; keeping them.");
        return;
    }

    // A new version per pack: a consumer can never pick up a stale copy of the same version from the NuGet cache.
    var suffix = "local." + DateTime.UtcNow.ToString("yyyyMMddHHmmss");
    // One `dotnet pack` over a solution of just these projects: one restore and one build graph for all of them, built
    // side by side where their references allow (a pack per project restored and evaluated the shared ones again each time).
    var packSolution = artifacts.CombineWithFilePath("internal-packages.slnx");
    System.IO.File.WriteAllText(packSolution.FullPath, "<Solution>\n"
        + string.Concat(projects.Select(p => $"  <Project Path=\"{System.IO.Path.GetFullPath(p)}\" />\n")) + "</Solution>\n");
    Run("dotnet", $"pack {packSolution} -c {configuration} -p:PackageOutputPath={feed}/ --version-suffix {suffix} -p:ContinuousIntegrationBuild=true -v quiet -nologo");
    System.IO.File.WriteAllText(versionFile.FullPath,
        "<Project>\n  <PropertyGroup>\n    <CalcPackagesVersion>0.1.0-" + suffix + "</CalcPackagesVersion>\n  </PropertyGroup>\n</Project>\n");
    System.IO.File.WriteAllText(hashFile.FullPath, hash);
    // Keep the feed small: only the packages of this pack.
    foreach (var old in GetFiles(feed.FullPath + "/*.nupkg").Where(f => !f.GetFilename().FullPath.Contains(suffix)))
        DeleteFile(old);
    Information($"Packed internal packages 0.1.0-{suffix} into {feed}");
});

// A hash of everything that goes into the internal packages, to skip packing when nothing changed.
string SourceHash(IEnumerable<string> projects)
{
    using var sha = System.Security.Cryptography.SHA256.Create();
    var files = projects.SelectMany(p => System.IO.Directory.EnumerateFiles(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(p)), "*", System.IO.SearchOption.AllDirectories))
        .Where(f => !f.Contains("/bin/") && !f.Contains("/obj/"))
        .Concat(new[] { "Directory.Build.props", "Directory.Packages.props", ".editorconfig" }.Select(System.IO.Path.GetFullPath))
        .OrderBy(f => f, StringComparer.Ordinal);
    foreach (var file in files)
    {
        var name = System.Text.Encoding.UTF8.GetBytes(file);
        sha.TransformBlock(name, 0, name.Length, null, 0);
        var content = System.IO.File.ReadAllBytes(file);
        sha.TransformBlock(content, 0, content.Length, null, 0);
    }
    sha.TransformFinalBlock(Array.Empty<byte>(), 0, 0);
    return Convert.ToHexString(sha.Hash);
}

Task("Build")
    .Description("Compiles everything (analyzer warnings are errors) and fails when the code is not formatted as .editorconfig says.")
    .IsDependentOn("Pack")
    .Does(() =>
{
    Run("dotnet", $"build {solution} -c {configuration} -nologo");
    Run("dotnet", $"format {solution} --verify-no-changes --no-restore");
});

Task("Format")
    .Description("Rewrites the code as .editorconfig says (what the Build's check asks for).")
    .Does(() =>
{
    Run("dotnet", $"format {solution}");
});

Task("Prerequisites")
    .Description("Installs the system packages the tests start real servers from, and the browser the dashboard tests drive (when run as root).")
    .Does(() => EnsureSystemPackages([.. ServerPackages,
        // The dashboard's browser tests drive Debian's chromium through Playwright (never Playwright's own download).
        ("/usr/bin/chromium", "chromium")]));

// The servers the tests and `calc up --profile full` start from the machine's own binaries.
(string Binary, string Package)[] ServerPackages =
[
    ("/usr/lib/postgresql/*/bin/initdb", "postgresql"),
    ("/usr/bin/redis-server", "redis-server"),
    ("/usr/bin/redis-cli", "redis-tools"),
    ("/usr/lib/rabbitmq/bin/rabbitmq-server", "rabbitmq-server"),
    ("/usr/lib/x86_64-linux-gnu/libgmp.so.10", "libgmp10"),
    ("/usr/bin/prometheus", "prometheus"), // the metrics tests' scraper (tests/Calc.Telemetry.Tests)
];

Task("Test")
    .Description("Runs every test project and prints one summed line; --coverage also writes the HTML coverage report.")
    .IsDependentOn("Prerequisites")
    .IsDependentOn("Build")
    .Does(() => RunTests(coverage: HasArgument("coverage")));

// Every test project as its own `dotnet test`, `--test-jobs` of them at a time (default: one per core), the longest
// first: the slowest projects (the CLI's, the gateway's) take minutes each, and started last they would run on alone
// while the other core idles. With coverage, coverlet's collector records what ran and ReportGenerator turns it into
// artifacts/coverage/index.html. The summed line comes last, for people and CI alike.
void RunTests(bool coverage)
{
    CleanDirectory(testResults);
    // No MongoDB server can be installed here: the Mongo compliance class ([Trait("Requires", "mongo")]) runs only
    // when CALC_TEST_MONGO gives a connection string. Left out by the filter, it is neither passed nor skipped.
    var mongoRuns = !string.IsNullOrEmpty(EnvironmentVariable("CALC_TEST_MONGO"));
    var testFilter = mongoRuns ? filter : string.IsNullOrEmpty(filter) ? "Requires!=mongo" : $"({filter})&Requires!=mongo";
    var filterArg = string.IsNullOrEmpty(testFilter) ? "" : $" --filter \"{testFilter}\"";
    var collect = coverage ? " --collect:\"XPlat Code Coverage\"" : "";
    var jobs = Argument("test-jobs", Environment.ProcessorCount);
    var projects = TestProjectsLongestFirst();
    Information($"{projects.Count} test projects, {jobs} at a time, longest first: {string.Join(", ", projects.Select(p => p.GetFilenameWithoutExtension().FullPath))}");

    var queue = new System.Collections.Concurrent.ConcurrentQueue<FilePath>(projects);
    var durations = new System.Collections.Concurrent.ConcurrentDictionary<string, TimeSpan>();
    var exits = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
    var clock = System.Diagnostics.Stopwatch.StartNew();
    var workers = Enumerable.Range(0, Math.Max(1, jobs)).Select(_ => System.Threading.Tasks.Task.Run(() =>
    {
        while (queue.TryDequeue(out var project))
        {
            var name = project.GetFilenameWithoutExtension().FullPath;
            var started = clock.Elapsed;
            // Snapshot tests (Snapshooter) fail on a missing snapshot instead of writing it: CI never approves its own output.
            // Only the value "true" switches strict mode on ("1" does not).
            var start = new System.Diagnostics.ProcessStartInfo("dotnet",
                $"test {project.FullPath} -c {configuration} --no-build --logger \"trx;LogFileName={name}.trx\" --results-directory {testResults}{filterArg}{collect}")
            {
                WorkingDirectory = root.FullPath,
                UseShellExecute = false,
            };
            start.Environment["SNAPSHOOTER_STRICT_MODE"] = "true";
            using var process = System.Diagnostics.Process.Start(start)!;
            process.WaitForExit();
            durations[name] = clock.Elapsed - started;
            exits[name] = process.ExitCode;
        }
    })).ToArray();
    System.Threading.Tasks.Task.WaitAll(workers);

    // Only a full run's durations order the next one (a filtered or coverage run's would mislead it).
    if (string.IsNullOrEmpty(filter) && !coverage)
        System.IO.File.WriteAllLines(TestDurationsFile.FullPath, durations.OrderByDescending(d => d.Value)
        .Select(d => $"{d.Key} {d.Value.TotalSeconds.ToString("0", System.Globalization.CultureInfo.InvariantCulture)}"));
    Information($"Test projects (wall clock, {jobs} at a time; {clock.Elapsed:m\\:ss} in all):");
    foreach (var (name, duration) in durations.OrderByDescending(d => d.Value))
        Information($"  {duration:m\\:ss}  {name}{(exits[name] != 0 ? $"  (exit code {exits[name]})" : "")}");
    var exit = exits.Values.Any(e => e != 0) ? 1 : 0;

    if (coverage)
    {
        // Written even when a test failed: it shows what ran.
        var report = artifacts.Combine("coverage");
        CleanDirectory(report);
        Run("dotnet", $"reportgenerator \"-reports:{testResults}/**/coverage.cobertura.xml\" \"-targetdir:{report}\" \"-reporttypes:Html;TextSummary\" \"-assemblyfilters:-*.Tests;-Calc.Testing\"");
        Console.WriteLine(System.IO.File.ReadAllText(report.CombineWithFilePath("Summary.txt").FullPath));
        Console.WriteLine($"Coverage report: {report.CombineWithFilePath("index.html")}");
    }

    long passed = 0, failed = 0, skipped = 0;
    foreach (var trx in GetFiles(testResults.FullPath + "/**/*.trx"))
    {
        var counters = System.Xml.Linq.XDocument.Load(trx.FullPath).Descendants().First(e => e.Name.LocalName == "Counters");
        passed += long.Parse(counters.Attribute("passed")?.Value ?? "0");
        failed += long.Parse(counters.Attribute("failed")?.Value ?? "0");
        skipped += long.Parse(counters.Attribute("notExecuted")?.Value ?? "0");
    }
    Console.WriteLine($"{passed} passed, {failed} failed, {skipped} skipped");
    if (!mongoRuns) Console.WriteLine("mongo compliance: not run (no MongoDB server; set CALC_TEST_MONGO)");
    if (exit != 0 || failed > 0) throw new Exception("Tests failed.");
    if (passed == 0) throw new Exception("No test ran.");
}

// Each project's wall-clock seconds in the last run, longest first, to order the next run by.
FilePath TestDurationsFile => artifacts.CombineWithFilePath("test-durations.txt");

// The test projects (tests/*/*Tests.csproj), ordered by the last run's durations when artifacts/test-durations.txt has
// them, else by these measured ones (CI run of 2 December, 2 cores; seconds), unknown projects before the fast ones.
List<FilePath> TestProjectsLongestFirst()
{
    var measured = new Dictionary<string, double>(StringComparer.Ordinal)
    {
        ["Calc.Cli.Tests"] = 226, ["Calc.Gateway.Tests"] = 203, ["Calc.Jobs.Tests"] = 133, ["Calc.Calculations.Tests"] = 121,
        ["Calc.Dashboard.Tests"] = 67, ["Calc.Cache.Tests"] = 56, ["Calc.Telemetry.Tests"] = 55, ["Calc.Data.Tests"] = 35,
        ["Calc.Core.Tests"] = 13, ["Calc.Numerics.Tests"] = 10, ["Calc.Gateway.UnitTests"] = 10,
    };
    if (FileExists(TestDurationsFile))
    {
        foreach (var line in System.IO.File.ReadAllLines(TestDurationsFile.FullPath))
        {
            var parts = line.Split(' ');
            if (parts.Length == 2 && double.TryParse(parts[1], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var seconds))
                measured[parts[0]] = seconds;
        }
    }

    return GetFiles(root.FullPath + "/tests/*/*.csproj")
        .Where(p => p.GetFilenameWithoutExtension().FullPath.EndsWith("Tests", StringComparison.Ordinal))
        .OrderByDescending(p => measured.TryGetValue(p.GetFilenameWithoutExtension().FullPath, out var s) ? s : 60)
        .ThenBy(p => p.FullPath, StringComparer.Ordinal)
        .ToList();
}

Task("Run")
    .Description("Builds and runs `calc up`: the whole system on this machine under the Aspire app host (cache, gateway, two Calculations instances, Jobs, the Aspire dashboard). --profile=full uses throwaway PostgreSQL, Redis and RabbitMQ; --aspire-url moves the Aspire dashboard.")
    .IsDependentOn("Pack")
    .Does(() =>
{
    var url = Argument("url", EnvironmentVariable("CALC_URL") ?? "http://127.0.0.1:5080");
    var profile = Argument("profile", "embedded");
    var aspireUrl = Argument("aspire-url", EnvironmentVariable("CALC_ASPIRE_URL") ?? "http://127.0.0.1:18888");
    if (profile == "full")
        EnsureSystemPackages(ServerPackages);
    // Building the CLI builds the app host and the apps it starts (project references without their assemblies), in this configuration.
    Run("dotnet", $"build cli/Calc.Cli -c {configuration} -v quiet -nologo");
    // Ctrl+C reaches calc and this process alike: wait here while calc stops the system in order.
    Console.CancelKeyPress += (_, e) => e.Cancel = true;
    var exit = StartProcess("dotnet", new ProcessSettings {
        Arguments = $"cli/Calc.Cli/bin/{configuration}/net10.0/calc.dll up --urls {url} --aspire-urls {aspireUrl} --profile {profile}",
        WorkingDirectory = root });
    // 130/143: ended by a signal before calc could handle it.
    if (exit != 0 && exit != 130 && exit != 143) throw new Exception($"calc up exited with code {exit}.");
});

Task("Coverage")
    .Description("The same as `test --coverage`: every test, then an HTML coverage report in artifacts/coverage/ (index.html).")
    .IsDependentOn("Prerequisites")
    .IsDependentOn("Build")
    .Does(() => RunTests(coverage: true));

Task("Bench")
    .Description("Runs the benchmark scripts under bench/ (peers side by side, ratios printed).")
    .Does(() =>
{
    foreach (var script in GetFiles("bench/*.sh").Where(f => f.GetFilename().FullPath != "lib.sh").Concat(GetFiles("bench/*/run.sh")))
        Run("bash", script.FullPath);
});

RunTarget(target);
