using Calc.Testing;
using Npgsql;

namespace Calc.Calculations.Tests;

/// <summary>
/// Several Calculations processes started at the same moment on one empty PostgreSQL database (Database:Provider
/// marten): each applies the schema at start, one after another under an advisory lock, and all of them come up and
/// serve, none failing with "already exists".
/// </summary>
public sealed class MartenSchemaStartupTests(PostgresServer postgres)
{
    private const int Instances = 3;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Three_instances_started_at_once_on_an_empty_database_all_come_up_and_serve_each_others_calculations()
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        var environment = new Dictionary<string, string?>
        {
            ["Database__Provider"] = "marten",
            ["Database__ConnectionString"] = connectionString,
            ["Logging__LogLevel__Default"] = "Warning",
        };
        (await TableCountAsync(connectionString)).ShouldBe(0, "the database starts empty");

        var starting = Enumerable.Range(0, Instances)
            .Select(i => ServiceProcess.StartAsync("services/Calc.Calculations", new Dictionary<string, string?>(environment) { ["Service__InstanceId"] = $"race-{i}" }, TimeSpan.FromSeconds(90)))
            .ToArray();
        await Task.WhenAll(starting.Select(s => s.ContinueWith(static _ => { }, TaskScheduler.Default)));
        var processes = starting.Where(s => s.IsCompletedSuccessfully).Select(s => s.Result).ToArray();
        try
        {
            starting.Where(s => s.IsFaulted).Select(s => s.Exception!.GetBaseException().Message).ShouldBeEmpty();
            var clients = processes.Select(p => new CalculationsClient(p.CreateClient())).ToArray();
            var ids = new List<string>();
            foreach (var client in clients)
            {
                ids.Add(await client.CreateIdAsync(new { type = "multiplication", init = 6 }));
            }

            // Every instance reads what every other one wrote: one schema, one table.
            foreach (var client in clients)
            {
                foreach (var id in ids)
                {
                    (await client.GetAsync(id))["id"]!.GetValue<string>().ShouldBe(id);
                }
            }

            foreach (var process in processes)
            {
                process.Output.ShouldNotContain("already exists", Case.Insensitive, process.Output);
            }
        }
        finally
        {
            foreach (var process in processes)
            {
                await process.DisposeAsync();
            }
        }
    }

    private static async Task<long> TableCountAsync(string connectionString)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var command = dataSource.CreateCommand("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'");
        return (long)(await command.ExecuteScalarAsync(Token))!;
    }
}
