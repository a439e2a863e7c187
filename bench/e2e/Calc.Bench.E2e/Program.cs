using System.Diagnostics;
using System.Globalization;
using System.Text;
using Calc.Bench.E2e;

// Usage: Calc.Bench.E2e --url GATEWAY [--clients 16] [--seconds 15] [--warmup-seconds 2] [--busy-retry-ms 1]
//                       [--pids name=PID,name=PID] [--pg-pid POSTMASTER_PID] [--pg CONN --pg-database NAME]
//                       [--statements-out FILE]
// --clients closed-loop clients each run seed 000's sequence through the gateway, one calculation after another:
// POST /calculations {"type":"addition","init":39}, PUT {"term":12}, PUT .../finalize (a 503 for want of a slot is
// counted and the finalize sent again after --busy-retry-ms), then GET until it is done, and the result must be 51.
// After --warmup-seconds the measured window of --seconds starts: the CPU time of every process named in --pids, of
// PostgreSQL (the postmaster, its live backends, and what ended backends left in its cutime/cstime) and of this
// process, and PostgreSQL's statement and table counters for --pg-database, are read at both ends of the window.
// Only calculations that finished inside the window count. Prints one line of name=value pairs (per calculation
// where it says so), and with --statements-out the statements per calculation, most frequent first.
var options = Args.Parse(args);
var gateway = new Uri(options.Required("url"));
var clients = options.Int("clients", 16);
var seconds = options.Double("seconds", 15);
var warmupSeconds = options.Double("warmup-seconds", 2);
var busyRetry = TimeSpan.FromMilliseconds(options.Double("busy-retry-ms", 1));
var processes = ProcessCpu.ParseNames(options.Get("pids", ""));
var pgPid = options.OptionalInt("pg-pid");
var pg = options.Get("pg", "");
var pgDatabase = options.Get("pg-database", "");
var statementsOut = options.Get("statements-out", "");

using var http = new HttpClient(new SocketsHttpHandler
{
    MaxConnectionsPerServer = clients,
    PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
    PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
    UseProxy = false,
    AllowAutoRedirect = false,
    UseCookies = false,
})
{
    BaseAddress = gateway,
    Timeout = TimeSpan.FromSeconds(30),
};

await using var statistics = pg.Length > 0 && pgDatabase.Length > 0 ? await PostgresCounters.CreateAsync(pg, pgDatabase) : null;
var sequence = new Seed000Sequence(http, busyRetry);
var window = new MeasuredWindow();
using var stopping = new CancellationTokenSource();
var workers = Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
{
    while (!window.Ended)
    {
        var started = Stopwatch.GetTimestamp();
        var outcome = await sequence.RunAsync(window, stopping.Token);
        window.Finished(outcome, Stopwatch.GetElapsedTime(started));
        if (!outcome.Done)
        {
            // A gateway that refuses or fails is not hammered in a tight loop.
            await Task.Delay(10);
        }
    }
})).ToArray();

await Task.Delay(TimeSpan.FromSeconds(warmupSeconds));
var cpu0 = ProcessCpu.Read(processes, pgPid);
var pg0 = statistics is null ? null : await statistics.ReadAsync();
window.Begin();
await Task.Delay(TimeSpan.FromSeconds(seconds));
window.End();
var cpu1 = ProcessCpu.Read(processes, pgPid);
var pg1 = statistics is null ? null : await statistics.ReadAsync();
var elapsed = window.Elapsed.TotalSeconds;

// The calculations in flight finish (not counted); a request hanging past 15 s is cancelled.
stopping.CancelAfter(TimeSpan.FromSeconds(15));
try
{
    await Task.WhenAll(workers);
}
catch (OperationCanceledException)
{
    Console.Error.WriteLine("some requests were still running 15 s after the window; cancelled");
}

var n = window.Calculations;
var line = new StringBuilder();
void Field(string name, double value, string format = "0.###") =>
    line.Append(CultureInfo.InvariantCulture, $"{name}={value.ToString(format, CultureInfo.InvariantCulture)} ");
Field("calculations", n);
Field("seconds", elapsed);
Field("rate", n / elapsed, "0.0");
Field("p50_ms", window.LatencyPercentile(0.50), "0.00");
Field("p99_ms", window.LatencyPercentile(0.99), "0.00");
Field("busy503", window.Busy503);
Field("busy503_per_calc", n == 0 ? 0 : (double)window.Busy503 / n, "0.00");
Field("gets_per_calc", n == 0 ? 0 : (double)window.Gets / n, "0.00");
Field("errors", window.Errors);
foreach (var (name, ticks) in cpu1.Ticks)
{
    // Microseconds of user+system CPU per calculation.
    Field($"cpu_{name}_us", n == 0 ? 0 : (ticks - cpu0.Ticks[name]) * 1e6 / ProcessCpu.TicksPerSecond / n, "0");
}

if (pg0 is not null && pg1 is not null)
{
    var delta = pg1.Minus(pg0);
    Field("statements_per_calc", n == 0 ? 0 : (double)delta.Statements / n, "0.00");
    Field("xacts_per_calc", n == 0 ? 0 : (double)delta.Transactions / n, "0.00");
    Field("inserts_per_calc", n == 0 ? 0 : (double)delta.Inserted / n, "0.00");
    Field("updates_per_calc", n == 0 ? 0 : (double)delta.Updated / n, "0.00");
    Field("index_scans_per_calc", n == 0 ? 0 : (double)delta.IndexScans / n, "0.00");
    Field("seq_scans_per_calc", n == 0 ? 0 : (double)delta.SequentialScans / n, "0.00");
    if (statementsOut.Length > 0)
    {
        await File.WriteAllLinesAsync(statementsOut, delta.ByStatement
            .Where(s => s.Calls > 0)
            .OrderByDescending(s => s.Calls)
            .Select(s => string.Create(CultureInfo.InvariantCulture, $"{(n == 0 ? 0 : (double)s.Calls / n):0.000}\t{s.Calls}\t{s.MeanMilliseconds:0.000}\t{s.Query}")));
    }
}

Console.WriteLine(line.ToString().TrimEnd());
if (window.ErrorSamples.Count > 0)
{
    Console.Error.WriteLine($"errors ({window.Errors}), first ones: {string.Join("; ", window.ErrorSamples)}");
}

return 0;
