using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Calc.Bench.Data;
using Calc.Bench.Data.Handwritten;
using Calc.Data;
using Calc.Data.Marten;
using Calc.Data.Redis;
using Calc.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

// Usage: Calc.Bench.Data --pg CONN --redis HOST:PORT --sqlite FILE [--docs N] [--rounds R] [--clients C]
//                        [--op-seconds S] [--pg-pid PID] [--redis-pid PID] [--providers raw,handwritten,marten,redis,sqlite]
// Per round and provider (order alternating between rounds): insert N new documents, load N, update each at version 1
// (versioned update, no load before it), N/4 query pages of 20 on one index value, N/10 counts by index value.
// Each (provider, operation) stops after --op-seconds even when not done. Prints best ops/s over the rounds, the ratio
// to raw Npgsql, client and server CPU per operation (lowest over the rounds) and PostgreSQL statements per operation.
var options = Args.Parse(args);
var pg = options.Required("pg");
var docs = options.Int("docs", 2000);
var rounds = options.Int("rounds", 3);
var clients = options.Int("clients", 1);
var opSeconds = options.Int("op-seconds", 20);
var pgPid = options.OptionalInt("pg-pid");
var redisPid = options.OptionalInt("redis-pid");
var selected = options.Get("providers", "raw,handwritten,marten,redis,sqlite").Split(',');

var json = new JsonSerializerOptions(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) } };
var collection = new DocumentCollection<BenchDocument>
{
    Name = "bench_documents",
    Index = BenchDocument.IndexOf,
    SortKey = static document => document.CreatedAt,
};

var providers = new List<Provider>();
var disposables = new List<IAsyncDisposable>();
await using var statsSource = NpgsqlDataSource.Create(pg);
var statements = await StatementCounter.CreateAsync(statsSource);
foreach (var name in selected)
{
    switch (name)
    {
        case "raw":
            var rawSource = NpgsqlDataSource.Create(pg);
            disposables.Add(rawSource);
            var raw = new RawNpgsqlRepository(rawSource, json);
            await raw.CreateTableAsync();
            providers.Add(new Provider("raw Npgsql", raw, pgPid, statements));
            break;
        case "handwritten":
            var handwritten = new PostgresDocumentStore(pg, json, TimeProvider.System);
            disposables.Add(handwritten);
            var handwrittenRepository = handwritten.CreateRepository(collection);
            // The store's InitializeAsync takes its collections from the constructor; the parked copy is given none.
            await using (var connection = await handwritten.OpenConnectionAsync(CancellationToken.None))
            {
                await handwritten.CreateTableAsync(connection, new Calc.Data.Sql.SqlStatements(collection.Name), CancellationToken.None);
            }

            providers.Add(new Provider("hand-written JSONB", handwrittenRepository, pgPid, statements));
            break;
        case "marten":
            providers.Add(new Provider("Marten", await ThroughDiAsync("marten", pg, p => p.AddMarten()), pgPid, statements));
            break;
        case "redis":
            providers.Add(new Provider("Redis", await ThroughDiAsync("redis", $"{options.Required("redis")},prefix=bench:", p => p.AddRedis()), redisPid, null));
            break;
        case "sqlite":
            providers.Add(new Provider("SQLite", await ThroughDiAsync("sqlite", $"Data Source={options.Required("sqlite")}", p => p.AddSqlite()), null, null));
            break;
        default:
            throw new ArgumentException($"unknown provider '{name}'");
    }
}

string[] operations = ["insert", "load", "update", "query page", "count by index"];
var results = new Dictionary<(string Provider, string Operation), Measurement>();

Console.WriteLine($"== warm-up (JIT, pools, schema; not measured), {providers.Count} providers");
foreach (var provider in providers)
{
    await RunRoundAsync(provider, "warm", Math.Min(docs, 200), measure: null);
}

var load0 = File.ReadAllText("/proc/loadavg").Trim();
for (var round = 1; round <= rounds; round++)
{
    var order = round % 2 == 1 ? providers : Enumerable.Reverse(providers).ToList();
    foreach (var provider in order)
    {
        await RunRoundAsync(provider, $"r{round}", docs, (operation, measurement) =>
        {
            var key = (provider.Name, operation);
            results[key] = results.TryGetValue(key, out var best) ? best.Best(measurement) : measurement;
        });
    }

    Console.WriteLine($"   round {round} done ({string.Join(", ", order.Select(p => p.Name))}); load average {File.ReadAllText("/proc/loadavg").Trim()}");
}

var load1 = File.ReadAllText("/proc/loadavg").Trim();
Report();

foreach (var disposable in disposables)
{
    await disposable.DisposeAsync();
}

return 0;

async Task RunRoundAsync(Provider provider, string round, int count, Action<string, Measurement>? measure)
{
    var ids = Enumerable.Range(0, count).Select(i => $"{round}-{i:D6}").ToArray();
    var random = new Random(count);
    var loads = Enumerable.Range(0, count).Select(_ => ids[random.Next(count)]).ToArray();
    var failures = 0;
    var ops = new (string Name, int Count, Func<int, Task> Run)[]
    {
        ("insert", count, async i =>
        {
            if ((await provider.Repository.InsertAsync(ids[i], BenchDocument.Create(i))).Status != WriteStatus.Written)
            {
                Interlocked.Increment(ref failures);
            }
        }),
        ("load", count, async i =>
        {
            if (await provider.Repository.LoadAsync(loads[i]) is null)
            {
                Interlocked.Increment(ref failures);
            }
        }),
        ("update", count, async i =>
        {
            var changed = BenchDocument.Create(i) with { Result = "42" };
            if ((await provider.Repository.UpdateAsync(ids[i], changed, expectedVersion: 1)).Status != WriteStatus.Written)
            {
                Interlocked.Increment(ref failures);
            }
        }),
        ("query page", Math.Max(1, count / 4), async i =>
        {
            var page = await provider.Repository.QueryAsync(new DocumentQuery(nameof(BenchStatus.Running), Offset: i % 50, Limit: 20, Descending: true));
            if (page.Count == 0)
            {
                Interlocked.Increment(ref failures);
            }
        }),
        ("count by index", Math.Max(1, count / 10), async _ =>
        {
            if ((await provider.Repository.CountByIndexAsync()).Count == 0)
            {
                Interlocked.Increment(ref failures);
            }
        }),
    };

    foreach (var (name, total, run) in ops)
    {
        failures = 0;
        var next = -1;
        var deadline = Stopwatch.StartNew();
        var statements0 = provider.Statements is { } counter ? await counter.TotalAsync() : 0;
        var client0 = Process.GetCurrentProcess().TotalProcessorTime;
        var server0 = ServerCpu.Seconds(provider.ServerPid);
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < total && deadline.Elapsed.TotalSeconds < opSeconds)
            {
                await run(i);
            }
        })));
        var elapsed = clock.Elapsed.TotalSeconds;
        var done = Math.Min(total, next);
        var client = (Process.GetCurrentProcess().TotalProcessorTime - client0).TotalSeconds;
        var server = ServerCpu.Seconds(provider.ServerPid) - server0;
        var statementCount = provider.Statements is { } counter1 ? await counter1.TotalAsync() - statements0 : 0;
        if (failures > 0)
        {
            Console.Error.WriteLine($"   {provider.Name} {name} ({round}): {failures} of {done} operations did not do what was expected");
        }

        if (done < total && measure is not null)
        {
            Console.Error.WriteLine($"   {provider.Name} {name} ({round}): stopped after {opSeconds} s at {done} of {total}");
        }

        measure?.Invoke(name, new Measurement(done / elapsed, client * 1e6 / done, server * 1e6 / done,
            provider.Statements is null ? null : (double)statementCount / done));
    }
}

void Report()
{
    var floor = providers.FirstOrDefault(p => p.Name == "raw Npgsql");
    var handwritten = providers.FirstOrDefault(p => p.Name == "hand-written JSONB");
    Console.WriteLine();
    Console.WriteLine($"| operation | provider | ops/s (best of {rounds}) | x raw Npgsql | x hand-written | client CPU µs/op | server CPU µs/op | PG statements/op |");
    Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|");
    foreach (var operation in operations)
    {
        foreach (var provider in providers)
        {
            var m = results[(provider.Name, operation)];
            string Ratio(Provider? other) => other is null ? "" : (m.OpsPerSecond / results[(other.Name, operation)].OpsPerSecond).ToString("0.00x", CultureInfo.InvariantCulture);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {operation} | {provider.Name} | {m.OpsPerSecond:F0} | {Ratio(floor)} | {Ratio(handwritten)} | {m.ClientMicroseconds:F0} | {(provider.ServerPid is null ? "in-process" : m.ServerMicroseconds.ToString("F0", CultureInfo.InvariantCulture))} | {(m.Statements is { } s ? s.ToString("0.0#", CultureInfo.InvariantCulture) : "")} |"));
        }
    }

    Console.WriteLine();
    Console.WriteLine($"{docs} documents per round, {rounds} rounds (provider order reversed every other round), {clients} client(s), at most {opSeconds} s per operation");
    Console.WriteLine($"load average (1/5/15 min) at start: {load0}; at end: {load1}; {Environment.ProcessorCount} cores");
    if (!statements.Available)
    {
        Console.WriteLine("PG statements/op: pg_stat_statements is not loaded (shared_preload_libraries), not counted");
    }
}

async Task<IDocumentRepository<BenchDocument>> ThroughDiAsync(string provider, string connectionString, Action<DocumentStoreProviders> offer)
{
    var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["Database:Provider"] = provider,
        ["Database:ConnectionString"] = connectionString,
    }).Build();
    var services = new ServiceCollection()
        .AddLogging()
        .AddDocumentStore(configuration, offer)
        .AddDocumentCollection(collection)
        .BuildServiceProvider();
    disposables.Add(services);
    await services.GetRequiredService<IDocumentStore>().InitializeAsync(CancellationToken.None);
    return services.GetRequiredService<IDocumentRepository<BenchDocument>>();
}

internal sealed record Provider(string Name, IDocumentRepository<BenchDocument> Repository, int? ServerPid, StatementCounter? Statements);

/// <summary>One (provider, operation) in one round: throughput, and CPU and statements per operation.</summary>
internal sealed record Measurement(double OpsPerSecond, double ClientMicroseconds, double ServerMicroseconds, double? Statements)
{
    // Throughput is the best round; CPU and statements per operation the lowest, which vary least on a shared machine.
    public Measurement Best(Measurement other) => new(
        Math.Max(OpsPerSecond, other.OpsPerSecond),
        Math.Min(ClientMicroseconds, other.ClientMicroseconds),
        Math.Min(ServerMicroseconds, other.ServerMicroseconds),
        Statements is { } s && other.Statements is { } o ? Math.Min(s, o) : Statements ?? other.Statements);
}

/// <summary>Statements PostgreSQL ran, from pg_stat_statements (when loaded), leaving out this counter's own queries.</summary>
internal sealed class StatementCounter(NpgsqlDataSource dataSource, bool available)
{
    public bool Available => available;

    public static async Task<StatementCounter> CreateAsync(NpgsqlDataSource dataSource)
    {
        try
        {
            await using var command = dataSource.CreateCommand("CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT count(*) FROM pg_stat_statements");
            await command.ExecuteScalarAsync();
            return new StatementCounter(dataSource, true);
        }
        catch (PostgresException)
        {
            return new StatementCounter(dataSource, false);
        }
    }

    public async Task<long> TotalAsync()
    {
        if (!available)
        {
            return 0;
        }

        await using var command = dataSource.CreateCommand("SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%'");
        return (long)(await command.ExecuteScalarAsync())!;
    }
}

/// <summary>--name value pairs.</summary>
internal sealed class Args(Dictionary<string, string> values)
{
    public static Args Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            values[args[i].TrimStart('-')] = args[i + 1];
        }

        return new Args(values);
    }

    public string Required(string name) => values.TryGetValue(name, out var value) ? value : throw new ArgumentException($"--{name} is required");

    public string Get(string name, string fallback) => values.GetValueOrDefault(name, fallback);

    public int Int(string name, int fallback) => values.TryGetValue(name, out var value) ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;

    public int? OptionalInt(string name) => values.TryGetValue(name, out var value) ? int.Parse(value, CultureInfo.InvariantCulture) : null;
}
