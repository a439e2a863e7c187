using System.Net;
using System.Text.Json.Nodes;
using Calc.Testing;

namespace Calc.Calculations.Tests;

/// <summary>Callbacks with several instances on one PostgreSQL database: every instance dispatches, none twice.</summary>
public sealed class CallbackInstancesTests(PostgresServer postgres)
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(90);

    private static async Task<(ServiceProcess Service, CalculationsClient Api)> StartAsync(string connectionString, string instanceId)
    {
        var environment = new Dictionary<string, string?>
        {
            ["Database__Provider"] = "postgres",
            ["Database__ConnectionString"] = connectionString,
            ["Service__InstanceId"] = instanceId,
            ["Callbacks__PollInterval"] = "00:00:00.050",
            ["Callbacks__RetryBaseDelay"] = "00:00:00.100",
            ["Callbacks__RetryMaxDelay"] = "00:00:00.300",
            ["Callbacks__AllowedNetworks__0"] = "127.0.0.0/8",
        };
        var service = await ServiceProcess.StartAsync("services/Calc.Calculations", environment);
        return (service, new CalculationsClient(service.CreateClient()));
    }

    [Fact]
    public async Task Two_instances_sharing_a_database_deliver_each_callback_once_whichever_instance_computed_it()
    {
        // Every third request fails, so deliveries also come back due for another attempt while both instances poll.
        await using var receiver = new HttpReceiver { Answer = r => r.Number % 3 == 0 ? (503, "") : (200, "") };
        await receiver.StartAsync();
        var connectionString = await postgres.CreateDatabaseAsync();
        var startA = StartAsync(connectionString, "calc-a");
        var startB = StartAsync(connectionString, "calc-b");
        var (a, apiA) = await startA;
        await using var _ = a;
        var (b, apiB) = await startB;
        await using var __ = b;

        var ids = new List<string>();
        for (var i = 0; i < 12; i++)
        {
            var api = i % 2 == 0 ? apiA : apiB;
            var id = await api.CreateIdAsync(new { type = "multiplication", init = i, callbackUrl = receiver.Url($"/calc/{i}") });
            await api.AddTermAsync(id, 10);
            using var finalize = await api.FinalizeAsync(id);
            finalize.StatusCode.ShouldBe(HttpStatusCode.Accepted);
            ids.Add(id);
        }

        foreach (var id in ids)
        {
            await apiA.WaitForAsync(id, c => c["callback"]?["state"]?.GetValue<string>() == "delivered", Generous);
        }

        await Task.Delay(500, TestContext.Current.CancellationToken);
        var accepted = receiver.Received.Where(r => r.Number % 3 != 0).Select(r => JsonNode.Parse(r.Body)!["id"]!.GetValue<string>()).ToList();
        accepted.Order(StringComparer.Ordinal).ShouldBe(ids.Order(StringComparer.Ordinal)); // each once, none lost
        (a.Output + b.Output).ShouldContain("delivered"); // sanity: the instances logged their deliveries
    }
}
