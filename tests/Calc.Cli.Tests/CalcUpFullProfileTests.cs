using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Calc.Cli.Tests;

/// <summary><c>calc up --profile full</c>: the same services on throwaway PostgreSQL, Redis and RabbitMQ, all gone after a stop.</summary>
public sealed partial class CalcUpFullProfileTests
{
    [Fact]
    public async Task The_full_profile_runs_jobs_through_RabbitMQ_and_SIGINT_stops_the_servers_too()
    {
        await using var up = await CalcUpProcess.StartAsync("--profile", "full");
        var ports = ServerPort().Matches(up.Output).Select(m => int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)).ToList();
        ports.Count.ShouldBe(3, up.Output);
        up.Children.Keys.Order().ShouldBe(["cache", "calculations-1", "calculations-2", "gateway", "jobs-api", "jobs-worker"]);

        using (var http = new HttpClient { BaseAddress = up.Gateway })
        {
            var status = JsonNode.Parse(await http.GetStringAsync(new Uri("/status", UriKind.Relative), TestContext.Current.CancellationToken))!;
            var services = status["services"]!.AsArray().ToDictionary(s => s!["service"]!.GetValue<string>(), s => s!["instances"]!.AsArray().Count);
            services["calculations"].ShouldBe(2);
            services["jobs"].ShouldBe(1);
        }

        // The API process queues the job on RabbitMQ; the separate worker process computes it.
        var budget = await CalcCli.RunAsync(up.Gateway, "jobs", "budget", "4", "1.00", "--watch");
        budget.ExitCode.ShouldBe(0, budget.ToString());
        budget.Lines.ShouldContain("worker: jobs-worker");
        budget.Output.ShouldContain("amount=0.25");

        var calculation = await CalcCli.RunAsync(up.Gateway, "submit", "power", "2", "64", "--watch");
        calculation.Lines.ShouldContain("result: 18446744073709551616", calculation.ToString());

        var children = up.Children;
        up.Signal("INT");
        (await up.WaitForExitAsync(TimeSpan.FromSeconds(120))).ShouldBe(0, up.Output);
        (await CalcUpProcess.WaitUntilGoneAsync(children.Values, TimeSpan.FromSeconds(5))).ShouldBeEmpty(up.Output);
        foreach (var port in ports)
        {
            (await AcceptsConnectionsAsync(port)).ShouldBeFalse($"port {port} still accepts connections:\n{up.Output}");
        }
    }

    private static async Task<bool> AcceptsConnectionsAsync(int port)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port, TestContext.Current.CancellationToken);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    // "PostgreSQL: Host=127.0.0.1;Port=N;...", "Redis: 127.0.0.1:N", "RabbitMQ: amqp://guest:guest@127.0.0.1:N/"
    [GeneratedRegex(@"(PostgreSQL: Host=127\.0\.0\.1;Port=|Redis: 127\.0\.0\.1:|RabbitMQ: amqp://guest:guest@127\.0\.0\.1:)(\d+)")]
    private static partial Regex ServerPort();
}
