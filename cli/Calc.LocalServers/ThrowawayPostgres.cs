using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Npgsql;

namespace Calc.LocalServers;

/// <summary>
/// A throwaway PostgreSQL server, started from the machine's own binaries (Debian's <c>/usr/lib/postgresql/*/bin</c>,
/// newest version) on a free loopback port with its data in a temporary directory, deleted when it stops; or an
/// existing server given by its connection string. A watchdog stops it if this process dies without stopping it.
/// Give each user its own database with <see cref="CreateDatabaseAsync"/>.
/// </summary>
public partial class ThrowawayPostgres : IAsyncDisposable
{
    private const string BinariesNotFound =
        "PostgreSQL server binaries not found: install the Debian package 'postgresql' (apt-get install -y postgresql)";

    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(60);

    private readonly Lock _gate = new();
    private readonly List<string> _externalDatabases = [];
    private NpgsqlDataSource? _admin;
    private string? _root;
    private string? _pgCtl;
    private Process? _watchdog;
    private readonly string? _external;
    private readonly bool _stopOnCtrlC;
    private int _stopped;

    /// <summary>A server started here (<paramref name="externalConnectionString"/> null or empty) or an existing one.</summary>
    /// <param name="externalConnectionString">The connection string of an existing server to use instead of starting one.</param>
    /// <param name="stopOnCtrlC">Stop the server as soon as Ctrl+C reaches this process (for a test run; a launcher that
    /// stops its apps first passes false and disposes the server itself).</param>
    public ThrowawayPostgres(string? externalConnectionString = null, bool stopOnCtrlC = true)
    {
        _external = externalConnectionString;
        _stopOnCtrlC = stopOnCtrlC;
    }

    /// <summary>Connection string of the server's <c>postgres</c> database (superuser <c>postgres</c>).</summary>
    public string ConnectionString { get; private set; } = "";

    /// <summary>True when the server is an existing one rather than started here.</summary>
    public bool IsExternal { get; private set; }

    private static bool RunAsPostgresUser => Environment.IsPrivilegedProcess;

    private string DataDirectory => Path.Combine(_root!, "data");

    /// <summary>Starts the server (or connects to the external one).</summary>
    public async ValueTask InitializeAsync()
    {
        var external = _external;
        if (string.IsNullOrWhiteSpace(external))
        {
            try
            {
                ConnectionString = await Task.Run(Start);
            }
            catch
            {
                // Clean up now rather than rely on the runner disposing a fixture that failed to start (Stop runs once).
                Stop();
                throw;
            }
        }
        else
        {
            IsExternal = true;
            ConnectionString = external;
        }

        _admin = NpgsqlDataSource.Create(ConnectionString);
    }

    /// <summary>
    /// Creates an empty database and returns its connection string, so that each test class works on its own data.
    /// </summary>
    /// <param name="name">The database name (lower case identifier); a unique one when null.</param>
    public async Task<string> CreateDatabaseAsync(string? name = null)
    {
        name ??= $"test_{Guid.NewGuid():N}";
        if (!DatabaseNamePattern().IsMatch(name))
        {
            throw new ArgumentException($"Database name '{name}' must be a lower case identifier of at most 63 characters.", nameof(name));
        }

        var admin = _admin ?? throw new InvalidOperationException(
            "The PostgreSQL server is not started: call InitializeAsync first (in tests: register it as an assembly fixture).");
        await using (var command = admin.CreateCommand($"CREATE DATABASE \"{name}\""))
        {
            await command.ExecuteNonQueryAsync();
        }

        if (IsExternal)
        {
            lock (_gate)
            {
                _externalDatabases.Add(name);
            }
        }

        return new NpgsqlConnectionStringBuilder(ConnectionString) { Database = name }.ConnectionString;
    }

    /// <summary>Stops the server and deletes its files; on an external server, drops the databases created here.</summary>
    public async ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        if (_admin is not null)
        {
            if (IsExternal)
            {
                await DropExternalDatabasesAsync(_admin);
            }

            await _admin.DisposeAsync();
        }

        if (!IsExternal)
        {
            await Task.Run(Stop);
        }
    }

    private string Start()
    {
        var binaries = FindBinaries() ?? throw new InvalidOperationException(BinariesNotFound);
        _pgCtl = Path.Combine(binaries, "pg_ctl");
        _root = Directory.CreateTempSubdirectory("calc-pg-").FullName;
        // Both set up before the server exists, so that a run cancelled or killed while starting still cleans up.
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
        if (_stopOnCtrlC)
        {
            Console.CancelKeyPress += OnCancelKeyPress;
        }

        StartWatchdog();

        if (RunAsPostgresUser)
        {
            // PostgreSQL refuses to run as root: the postgres user owns the data and socket directory.
            Run("chown", ["postgres:postgres", _root]);
        }

        RunServerTool(Path.Combine(binaries, "initdb"),
            ["-D", DataDirectory, "-A", "trust", "-U", "postgres", "-N", "-E", "UTF8", "--locale=C.UTF-8"]);

        const int attempts = 3;
        for (var attempt = 1; ; attempt++)
        {
            var port = ProcessTools.FreePort();
            try
            {
                RunServerTool(_pgCtl,
                [
                    "-D", DataDirectory, "-l", Path.Combine(_root, "server.log"), "-w", "-t", "30",
                    "-o", $"-p {port} -k {_root} -c listen_addresses=127.0.0.1 -c max_connections=200 -F",
                    "start",
                ]);
            }
            catch (InvalidOperationException) when (attempt < attempts)
            {
                // Another process took the port between the probe and the server's bind.
                continue;
            }
            catch (InvalidOperationException exception)
            {
                throw new InvalidOperationException($"{exception.Message}\nServer log:\n{ReadLog()}", exception);
            }

            return new NpgsqlConnectionStringBuilder
            {
                Host = "127.0.0.1",
                Port = port,
                Username = "postgres",
                Database = "postgres",
            }.ConnectionString;
        }
    }

    private void Stop()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1 || _root is null)
        {
            return;
        }

        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        Console.CancelKeyPress -= OnCancelKeyPress;
        try
        {
            if (File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
            {
                RunServerTool(_pgCtl!, ["-D", DataDirectory, "-m", "immediate", "-w", "stop"]);
            }
        }
        finally
        {
            StopWatchdog();
            try
            {
                Directory.Delete(_root, recursive: true);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                // A leftover temp directory is not worth failing the run.
            }
        }
    }

    // ProcessExit does not run when this process is killed (SIGKILL, a crashed test host): a detached shell
    // watches this process and, once it is gone, stops the server and deletes its files. It ends on its own when
    // Stop has deleted the directory.
    private void StartWatchdog()
    {
        const string script = """
            pid=$1; data=$2; root=$3; shift 3
            i=0
            while [ "$i" -lt 86400 ] && [ -d "/proc/$pid" ] && [ -d "$root" ]; do sleep 1; i=$((i+1)); done
            if [ -f "$data/postmaster.pid" ]; then "$@"; fi
            rm -rf "$root"
            """;
        _watchdog = ProcessTools.StartWatchdog(
            "calc-pg-watchdog",
            script,
            [DataDirectory, _root!, .. ServerToolCommand(_pgCtl!, ["-D", DataDirectory, "-m", "immediate", "stop"])]);
    }

    private void StopWatchdog()
    {
        if (_watchdog is null)
        {
            return;
        }

        try
        {
            if (!_watchdog.HasExited)
            {
                _watchdog.Kill();
            }
        }
        catch (InvalidOperationException)
        {
            // It had already ended.
        }

        _watchdog.Dispose();
        _watchdog = null;
    }

    private async Task DropExternalDatabasesAsync(NpgsqlDataSource admin)
    {
        string[] databases;
        lock (_gate)
        {
            databases = [.. _externalDatabases];
        }

        foreach (var database in databases)
        {
            try
            {
                await using var command = admin.CreateCommand($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
                await command.ExecuteNonQueryAsync();
            }
            catch (NpgsqlException)
            {
                // Best effort: a shared server keeps a stray test database rather than failing the run.
            }
        }
    }

    private void OnProcessExit(object? sender, EventArgs e) => Stop();

    private void OnCancelKeyPress(object? sender, ConsoleCancelEventArgs e) => Stop();

    private string ReadLog()
    {
        try
        {
            return File.ReadAllText(Path.Combine(_root!, "server.log"));
        }
        catch (IOException)
        {
            return "(no log)";
        }
    }

    private static string? FindBinaries()
    {
        static bool HasServerTools(string directory) =>
            IsExistingFile(Path.Combine(directory, "initdb")) && IsExistingFile(Path.Combine(directory, "pg_ctl"));

        // File.Exists is true for a dangling symbolic link (e.g. /usr/local/bin/initdb left behind by an uninstall).
        static bool IsExistingFile(string path)
        {
            var file = new FileInfo(path);
            return file.LinkTarget is null ? file.Exists : file.ResolveLinkTarget(returnFinalTarget: true)?.Exists == true;
        }

        const string debianRoot = "/usr/lib/postgresql";
        if (Directory.Exists(debianRoot))
        {
            var newest = Directory.GetDirectories(debianRoot)
                .Select(directory => (Bin: Path.Combine(directory, "bin"), Version: ParseVersion(Path.GetFileName(directory))))
                .Where(candidate => candidate.Version >= 0 && HasServerTools(candidate.Bin))
                .OrderByDescending(candidate => candidate.Version)
                .Select(candidate => candidate.Bin)
                .FirstOrDefault();
            if (newest is not null)
            {
                return newest;
            }
        }

        // Other distributions put the server tools on the PATH.
        return (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .FirstOrDefault(HasServerTools);
    }

    private static decimal ParseVersion(string name) =>
        decimal.TryParse(name, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var version) ? version : -1;

    private void RunServerTool(string tool, IReadOnlyList<string> arguments)
    {
        var command = ServerToolCommand(tool, arguments);
        Run(command[0], command[1..], _root);
    }

    private static string[] ServerToolCommand(string tool, IReadOnlyList<string> arguments) =>
        RunAsPostgresUser ? ["runuser", "-u", "postgres", "--", tool, .. arguments] : [tool, .. arguments];

    private static string Run(string file, IReadOnlyList<string> arguments, string? workingDirectory = null)
    {
        var startInfo = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? "",
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        var commandLine = $"{file} {string.Join(' ', arguments)}";
        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException($"Could not start '{commandLine}'.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(ToolTimeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"'{commandLine}' did not finish within {ToolTimeout.TotalSeconds} s.");
        }

        Task.WaitAll([output, error], TimeSpan.FromSeconds(10));
        var text = (output.IsCompleted ? output.Result : "") + (error.IsCompleted ? error.Result : "");
        return process.ExitCode == 0
            ? text
            : throw new InvalidOperationException($"'{commandLine}' exited with code {process.ExitCode}: {text}");
    }

    [GeneratedRegex(@"^[a-z_][a-z0-9_]{0,62}\z", RegexOptions.CultureInvariant)]
    private static partial Regex DatabaseNamePattern();
}
