using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Calc.LocalServers;

namespace Calc.Testing;

/// <summary>
/// A real Prometheus (the machine's <c>/usr/bin/prometheus</c>) on a free loopback port, scraping the given
/// <c>/metrics</c> endpoints every second, with its storage in a temporary directory. Stopped by its PID on dispose
/// (and by a watchdog if the test process dies).
/// </summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    public const string Binary = "/usr/bin/prometheus";

    private readonly TempDirectory _data = new("calc-prometheus-");
    private readonly StringBuilder _output = new();
    private Process? _process;
    private Process? _watchdog;

    private PrometheusServer()
    {
        Port = ProcessTools.FreePort();
    }

    public int Port { get; }

    public Uri BaseAddress => new(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{Port}/"));

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts Prometheus scraping each of <paramref name="targets"/> (host:port, path <c>/metrics</c>) as job <c>calc</c>.</summary>
    public static async Task<PrometheusServer> StartAsync(IReadOnlyCollection<string> targets)
    {
        if (!File.Exists(Binary))
        {
            throw new InvalidOperationException($"{Binary} is missing: install Debian's prometheus package (build.sh prerequisites).");
        }

        var server = new PrometheusServer();
        var config = server._data.Combine("prometheus.yml");
        var list = string.Join(", ", targets.Select(t => $"'{t}'"));
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: calc
                metrics_path: /metrics
                static_configs:
                  - targets: [{list}]
            """);
        var start = new ProcessStartInfo(Binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
                 {
                     "--config.file=" + config, "--storage.tsdb.path=" + server._data.Combine("data"),
                     string.Create(CultureInfo.InvariantCulture, $"--web.listen-address=127.0.0.1:{server.Port}"),
                 })
        {
            start.ArgumentList.Add(argument);
        }

        server._process = Process.Start(start)!;
        server._process.OutputDataReceived += (_, e) => server.Append(e.Data);
        server._process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        server._watchdog = ProcessTools.KillWhenTestProcessDies(server._process);
        await ProcessTools.WaitForTcpAsync(server.Port, server._process, TimeSpan.FromSeconds(30), () => server.Output);
        await server.WaitUntilReadyAsync(TimeSpan.FromSeconds(30));
        return server;
    }

    // Listening is not ready: until its storage is open, Prometheus answers queries with 503.
    private async Task WaitUntilReadyAsync(TimeSpan within)
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        await Eventually.TrueAsync(IsReadyAsync, within, "Prometheus to be ready", () => "\n" + Output, TimeSpan.FromMilliseconds(200), CancellationToken.None);

        async Task<bool> IsReadyAsync()
        {
            try
            {
                using var response = await http.GetAsync(new Uri("-/ready", UriKind.Relative));
                return response.IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false; // asked again
            }
        }
    }

    /// <summary>Runs an instant query (<c>/api/v1/query</c>) and returns the result vector's entries.</summary>
    public async Task<JsonArray> QueryAsync(string query, CancellationToken cancellationToken = default)
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        var answer = await http.GetFromJsonAsync<JsonObject>(new Uri("api/v1/query?query=" + Uri.EscapeDataString(query), UriKind.Relative), cancellationToken);
        return answer!["data"]!["result"]!.AsArray();
    }

    /// <summary>Polls <paramref name="query"/> until it returns at least one series; fails after <paramref name="within"/>.</summary>
    public Task<JsonArray> WaitForSeriesAsync(string query, TimeSpan within, CancellationToken cancellationToken = default) =>
        Eventually.ValueAsync(() => QueryAsync(query, cancellationToken), result => result.Count > 0, within, $"a series for {query}",
            _ => "no series\n" + Output, TimeSpan.FromMilliseconds(250), cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        ProcessTools.Kill(ref _watchdog);
        _data.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}
