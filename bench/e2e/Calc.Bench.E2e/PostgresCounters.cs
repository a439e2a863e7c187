using Npgsql;

namespace Calc.Bench.E2e;

/// <summary>
/// PostgreSQL's counters for one database: statements from pg_stat_statements (when it is loaded), transactions from
/// pg_stat_database, row and scan counts from pg_stat_user_tables (these two are flushed by the backends about once a
/// second, so they lag the window by up to that).
/// </summary>
internal sealed class PostgresCounters : IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly NpgsqlDataSource _database;
    private readonly string _databaseName;
    private readonly bool _statementsAvailable;

    private PostgresCounters(NpgsqlDataSource dataSource, NpgsqlDataSource database, string databaseName, bool statementsAvailable)
    {
        _dataSource = dataSource;
        _database = database;
        _databaseName = databaseName;
        _statementsAvailable = statementsAvailable;
    }

    public static async Task<PostgresCounters> CreateAsync(string connectionString, string databaseName)
    {
        var dataSource = NpgsqlDataSource.Create(connectionString);
        var database = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString) { Database = databaseName }.ConnectionString);
        bool available;
        try
        {
            await using var command = dataSource.CreateCommand("CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT count(*) FROM pg_stat_statements");
            await command.ExecuteScalarAsync();
            available = true;
        }
        catch (PostgresException)
        {
            available = false;
            await Console.Error.WriteLineAsync("pg_stat_statements is not loaded (shared_preload_libraries): statements are not counted");
        }

        var counters = new PostgresCounters(dataSource, database, databaseName, available);
        // Once before the window: the first use of a connection to the database runs Npgsql's type loading there.
        await counters.ReadAsync();
        return counters;
    }

    public async Task<Snapshot> ReadAsync()
    {
        var statements = new Dictionary<long, StatementCalls>();
        if (_statementsAvailable)
        {
            await using var command = _dataSource.CreateCommand("""
                SELECT s.queryid, s.calls, s.total_exec_time + s.total_plan_time, s.query
                FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
                WHERE d.datname = $1
                """);
            command.Parameters.AddWithValue(_databaseName);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                var id = reader.IsDBNull(0) ? 0 : reader.GetInt64(0);
                var calls = reader.GetInt64(1);
                var time = reader.GetDouble(2);
                statements[id] = statements.TryGetValue(id, out var earlier)
                    ? earlier with { Calls = earlier.Calls + calls, TotalMilliseconds = earlier.TotalMilliseconds + time }
                    : new StatementCalls(calls, time, OneLine(reader.GetString(3)));
            }
        }

        await using var counters = _dataSource.CreateCommand("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = $1");
        counters.Parameters.AddWithValue(_databaseName);
        var transactions = (long)(await counters.ExecuteScalarAsync() ?? 0L);

        // pg_stat_user_tables is per database: asked on a connection to it.
        await using var tables = _database.CreateCommand("""
            SELECT coalesce(sum(n_tup_ins), 0)::bigint, coalesce(sum(n_tup_upd), 0)::bigint,
                   coalesce(sum(idx_scan), 0)::bigint, coalesce(sum(seq_scan), 0)::bigint
            FROM pg_stat_user_tables
            """);
        await using var row = await tables.ExecuteReaderAsync();
        await row.ReadAsync();
        return new Snapshot(statements, transactions, row.GetInt64(0), row.GetInt64(1), row.GetInt64(2), row.GetInt64(3));
    }

    public async ValueTask DisposeAsync()
    {
        await _dataSource.DisposeAsync();
        await _database.DisposeAsync();
    }

    private static string OneLine(string query)
    {
        var line = string.Join(' ', query.Split((char[])['\n', '\r', '\t', ' '], StringSplitOptions.RemoveEmptyEntries));
        return line.Length <= 400 ? line : line[..400] + "…";
    }

    public sealed record StatementCalls(long Calls, double TotalMilliseconds, string Query);

    public sealed record StatementDelta(long Calls, double MeanMilliseconds, string Query);

    public sealed record Snapshot(
        Dictionary<long, StatementCalls> Statements, long Transactions, long Inserted, long Updated, long IndexScans, long SequentialScans)
    {
        public long TotalStatements => Statements.Values.Sum(s => s.Calls);

        public Delta Minus(Snapshot before) => new(
            TotalStatements - before.TotalStatements,
            Transactions - before.Transactions,
            Inserted - before.Inserted,
            Updated - before.Updated,
            IndexScans - before.IndexScans,
            SequentialScans - before.SequentialScans,
            [.. Statements.Select(s =>
            {
                var earlier = before.Statements.GetValueOrDefault(s.Key);
                var calls = s.Value.Calls - (earlier?.Calls ?? 0);
                var time = s.Value.TotalMilliseconds - (earlier?.TotalMilliseconds ?? 0);
                return new StatementDelta(calls, calls == 0 ? 0 : time / calls, s.Value.Query);
            })]);
    }

    public sealed record Delta(
        long Statements, long Transactions, long Inserted, long Updated, long IndexScans, long SequentialScans, List<StatementDelta> ByStatement);
}
