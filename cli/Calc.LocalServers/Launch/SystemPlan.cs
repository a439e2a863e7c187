using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Calc.LocalServers.Launch;

/// <summary>What an app is to the system, which decides how it is started, awaited and stopped.</summary>
public enum AppRole
{
    /// <summary>Calc.Cache, the gateway's registry: plain TCP (RESP), no HTTP.</summary>
    Cache,

    /// <summary>The gateway: the system's public address.</summary>
    Gateway,

    /// <summary>A service instance that registers with the gateway and serves requests routed to it.</summary>
    Service,

    /// <summary>A Jobs worker process: serves health and metrics only, so it does not register.</summary>
    Worker,
}

/// <summary>One app of the system, started from its build output as <c>dotnet &lt;dll&gt; arguments...</c>.</summary>
/// <param name="Name">Its name in the log prefix, the Aspire dashboard and <c>Service:InstanceId</c>.</param>
/// <param name="ProjectDirectory">The project, relative to the repository root.</param>
/// <param name="Arguments">Its command line after the assembly.</param>
/// <param name="Environment">The settings it gets (on top of the launcher's environment).</param>
/// <param name="Role">What it is to the system.</param>
/// <param name="Port">The loopback port it listens on.</param>
public sealed record AppLaunch(
    string Name, string ProjectDirectory, IReadOnlyList<string> Arguments, IReadOnlyDictionary<string, string> Environment, AppRole Role, int Port)
{
    /// <summary>Its HTTP address (null for the cache, which speaks RESP).</summary>
    public Uri? BaseAddress => Role == AppRole.Cache ? null : new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{Port}"));

    /// <summary>The app's main assembly in the build output of the launcher's configuration.</summary>
    public string Assembly => BuildOutput.Find(ProjectDirectory);

    /// <summary>How long it gets after SIGTERM before it is killed: services hand running work back first.</summary>
    public TimeSpan StopGrace => Role is AppRole.Service or AppRole.Worker ? TimeSpan.FromSeconds(20) : TimeSpan.FromSeconds(10);
}

/// <summary>The settings of the storage the services run on: the embedded profile's SQLite files and in-process queue,
/// or the full profile's servers (<see cref="FullProfileServers"/>).</summary>
/// <param name="Calculations">Calculations' <c>Database:*</c>.</param>
/// <param name="Jobs">Jobs' <c>Database:*</c>.</param>
/// <param name="Queue">Jobs' <c>Queue:*</c>.</param>
public sealed record StorageWiring(
    IReadOnlyDictionary<string, string> Calculations, IReadOnlyDictionary<string, string> Jobs, IReadOnlyDictionary<string, string> Queue)
{
    /// <summary>SQLite files in <paramref name="dataDirectory"/> (created if missing) and the in-process job queue.</summary>
    public static StorageWiring Embedded(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        return new(
            new Dictionary<string, string> { ["Database__Provider"] = "sqlite", ["Database__ConnectionString"] = $"Data Source={Path.Combine(dataDirectory, "calculations.db")}" },
            new Dictionary<string, string> { ["Database__Provider"] = "sqlite", ["Database__ConnectionString"] = $"Data Source={Path.Combine(dataDirectory, "jobs.db")}" },
            new Dictionary<string, string> { ["Queue__Provider"] = "inprocess" });
    }
}

/// <summary>
/// The one description of how the local system is wired (the Aspire app host starts what it says): the apps in start
/// order, each with its command line and settings. The apps find each other through discovery, as in a deployment: the
/// gateway gets <c>Cache:Endpoint</c>, every service <c>Gateway:Url</c> and <c>Internal:Key</c> (a random key per run),
/// and registers itself.
/// <list type="number">
/// <item>the cache (Calc.Cache: the gateway's registry), then the gateway on <see cref="SystemSettings.GatewayUrl"/>;</item>
/// <item>Calculations ×N on one database;</item>
/// <item>Jobs: one process with API and workers on the embedded in-process queue (that queue lives inside one process,
/// so a separate worker process could never receive its messages), or on RabbitMQ an API process and a worker process.</item>
/// </list>
/// Stopping goes the other way: services first (they deregister and hand running work back), then the gateway and the cache.
/// </summary>
public static class SystemPlan
{
    /// <summary>The apps, in start order.</summary>
    public static IReadOnlyList<AppLaunch> Create(SystemSettings settings, StorageWiring storage, string internalKey)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(storage);
        var cachePort = ProcessTools.FreePort();
        var gatewayOrigin = SystemSettings.Origin(settings.GatewayUrl);
        List<AppLaunch> apps =
        [
            new("cache", "cache/Calc.Cache", ["--port", cachePort.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1"],
                AppEnvironment(), AppRole.Cache, cachePort),
            new("gateway", "gateway/Calc.Gateway", ["--urls", gatewayOrigin],
                AppEnvironment(("Cache__Endpoint", string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{cachePort}")), ("Internal__Key", internalKey)),
                AppRole.Gateway, settings.GatewayUrl.Port),
        ];
        for (var i = 1; i <= settings.CalculationInstances; i++)
        {
            apps.Add(Service($"calculations-{i}", "services/Calc.Calculations", [], AppRole.Service, storage.Calculations));
        }

        if (settings.IsFull)
        {
            apps.Add(Service("jobs-api", "services/Calc.Jobs", ["--role", "api"], AppRole.Service, [.. storage.Jobs, .. storage.Queue]));
            // Not registered: the gateway would route /jobs requests to it, and a worker serves none.
            apps.Add(Service("jobs-worker", "services/Calc.Jobs", ["--role", "worker"], AppRole.Worker, [.. storage.Jobs, .. storage.Queue]));
        }
        else
        {
            apps.Add(Service("jobs", "services/Calc.Jobs", ["--role", "all"], AppRole.Service, [.. storage.Jobs, .. storage.Queue]));
        }

        return apps;

        AppLaunch Service(string name, string project, string[] arguments, AppRole role, IEnumerable<KeyValuePair<string, string>> storageSettings)
        {
            var port = ProcessTools.FreePort();
            // A local system's callback receivers run on this machine too: loopback, which callbacks refuse by default.
            List<(string, string)> environment =
            [
                ("Service__InstanceId", name), ("Internal__Key", internalKey),
                ("Callbacks__AllowedNetworks__0", "127.0.0.0/8"), ("Callbacks__AllowedNetworks__1", "::1/128"),
                .. storageSettings.Select(s => (s.Key, s.Value)),
            ];
            if (role == AppRole.Service)
            {
                environment.Add(("Gateway__Url", gatewayOrigin));
            }

            return new(name, project, [.. arguments, "--urls", string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}")],
                AppEnvironment([.. environment]), role, port);
        }
    }

    /// <summary>How many instances of each service the gateway must list before the system is up.</summary>
    public static IReadOnlyDictionary<string, int> ExpectedRegistrations(SystemSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return new Dictionary<string, int> { ["calculations"] = settings.CalculationInstances, ["jobs"] = 1 };
    }

    /// <summary>Why the gateway cannot listen on its address (another launcher holds it), or null when it can.</summary>
    public static string? GatewayAddressProblem(SystemSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var host = settings.GatewayUrl.Host;
        var address = host is "localhost" ? IPAddress.Loopback : IPAddress.TryParse(host, out var parsed) ? parsed : null;
        if (address is null)
        {
            return null;
        }

        try
        {
            using var listener = new TcpListener(address, settings.GatewayUrl.Port);
            listener.Start();
            return null;
        }
        catch (SocketException exception)
        {
            return $"cannot listen on {SystemSettings.Origin(settings.GatewayUrl)} ({exception.Message}): is another calc up running? Choose another address with --urls";
        }
    }

    private static Dictionary<string, string> AppEnvironment(params (string Key, string Value)[] settings)
    {
        var environment = new Dictionary<string, string>
        {
            // One readable line per entry (the JSON lines of production logging are for machines).
            ["Logging__Console__FormatterName"] = "simple",
            ["Logging__Console__FormatterOptions__SingleLine"] = "true",
            ["Logging__Console__FormatterOptions__TimestampFormat"] = "HH:mm:ss ",
            ["DOTNET_NOLOGO"] = "1",
        };
        foreach (var (key, value) in settings)
        {
            environment[key] = value;
        }

        return environment;
    }
}
