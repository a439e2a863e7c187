using System.Globalization;
using System.Text.Json.Nodes;
using Calc.Testing;

namespace Calc.Cli.Tests;

/// <summary>The calc CLI as a script uses it (stdout redirected: plain output), against a real gateway and service.</summary>
public sealed class CliTests(CliSystem cluster) : IClassFixture<CliSystem>
{
    // 30! = 265252859812191058636308480000000 (33 digits: a JSON string, exact).
    private const string Factorial30 = "265252859812191058636308480000000";

    private Task<CliRun> Calc(params string[] arguments) => CalcCli.RunAsync(cluster.Gateway, arguments);

    private static string Field(CliRun run, string name) =>
        run.Lines.FirstOrDefault(l => l.StartsWith(name + ": ", StringComparison.Ordinal))?[(name.Length + 2)..]
        ?? throw new ShouldAssertException($"No '{name}:' line in:\n{run}");

    [Fact]
    public async Task Submit_factorial_with_watch_prints_the_exact_result_and_exits_0()
    {
        var run = await Calc("submit", "factorial", "30", "--watch");

        run.ExitCode.ShouldBe(0, run.ToString());
        Field(run, "status").ShouldBe("done");
        Field(run, "result").ShouldBe(Factorial30);
        Field(run, "resultDigits").ShouldBe("33");
        run.Error.ShouldContain("done");
    }

    [Fact]
    public async Task Submit_without_watch_prints_only_the_id_and_watch_then_waits_for_the_result()
    {
        var submitted = await Calc("submit", "addition", "39", "12");
        submitted.ExitCode.ShouldBe(0, submitted.ToString());
        var id = submitted.Output.Trim();
        submitted.Lines.Length.ShouldBe(1);
        id.ShouldNotBeEmpty();

        var watched = await Calc("watch", id);
        watched.ExitCode.ShouldBe(0, watched.ToString());
        Field(watched, "id").ShouldBe(id);
        Field(watched, "result").ShouldBe("51");
    }

    [Fact]
    public async Task Create_add_and_finalize_step_by_step_follow_seed_000s_sequence()
    {
        var created = await Calc("create", "multiplication", "6");
        created.ExitCode.ShouldBe(0, created.ToString());
        var id = created.Output.Trim();

        var added = await Calc("add", id, "7", "-2");
        added.ExitCode.ShouldBe(0, added.ToString());
        Field(added, "status").ShouldBe("building");
        Field(added, "termCount").ShouldBe("2");

        var finalized = await Calc("finalize", id);
        finalized.ExitCode.ShouldBe(0, finalized.ToString());

        var watched = await Calc("watch", id);
        Field(watched, "result").ShouldBe("-84");
    }

    [Fact]
    public async Task A_request_the_API_refuses_exits_2_and_names_the_field()
    {
        var run = await Calc("submit", "addition", "1", "--timeout", "0");

        run.ExitCode.ShouldBe(2, run.ToString());
        run.Output.ShouldBeEmpty();
        run.Error.ShouldContain("(400)");
        run.Error.ShouldContain("timeoutSeconds:");
    }

    [Fact]
    public async Task A_refused_term_exits_2_and_cancels_the_half_built_calculation()
    {
        var run = await Calc("submit", "factorial", "5", "3");

        run.ExitCode.ShouldBe(2, run.ToString());
        run.Error.ShouldContain("term:");
        var id = System.Text.RegularExpressions.Regex.Match(run.Error, @"calculation (\S+) was cancelled").Groups[1].Value;
        id.ShouldNotBeEmpty(run.ToString());
        Field(await Calc("get", id), "status").ShouldBe("cancelled"); // the service says so, not only the CLI
    }

    [Fact]
    public async Task A_bad_command_line_exits_2()
    {
        var run = await Calc("submit");

        run.ExitCode.ShouldBe(2, run.ToString());
        run.Error.ShouldContain("Required argument missing");
    }

    [Fact]
    public async Task An_unknown_id_exits_2_with_the_problem_in_words()
    {
        var run = await Calc("get", "no-such-calculation");

        run.ExitCode.ShouldBe(2, run.ToString());
        run.Error.ShouldContain("(404)");
    }

    [Fact]
    public async Task Work_that_ends_failed_exits_1_with_the_reason()
    {
        var run = await Calc("submit", "division", "1", "0", "--watch");

        run.ExitCode.ShouldBe(1, run.ToString());
        Field(run, "status").ShouldBe("failed");
        run.Error.ShouldContain("ended failed");
        run.Error.ShouldContain("Division by zero");
    }

    [Fact]
    public async Task An_unreachable_gateway_exits_3()
    {
        var nowhere = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{ProcessTools.FreePort()}"));

        var run = await CalcCli.RunAsync(nowhere, "status");

        run.ExitCode.ShouldBe(3, run.ToString());
        run.Error.ShouldContain("unreachable");
    }

    [Fact]
    public async Task No_capacity_exits_3_with_Retry_After_and_the_calculation_left_building()
    {
        // The instance's one slot is taken by a factorial that runs for a long time on managed math.
        var slow = await Calc("submit", "factorial", "5000000", "--timeout", "300");
        slow.ExitCode.ShouldBe(0, slow.ToString());
        var slowId = slow.Output.Trim();
        try
        {
            var run = await Calc("submit", "addition", "1", "2");

            run.ExitCode.ShouldBe(3, run.ToString());
            run.Error.ShouldContain("(503)");
            run.Error.ShouldContain("retry after 2 s");
            var id = System.Text.RegularExpressions.Regex.Match(run.Error, @"calculation (\S+) is still building").Groups[1].Value;
            id.ShouldNotBeEmpty(run.ToString());
            Field(await Calc("get", id), "status").ShouldBe("building");
            (await Calc("cancel", id)).ExitCode.ShouldBe(0);
        }
        finally
        {
            var cancelled = await Calc("cancel", slowId);
            cancelled.ExitCode.ShouldBe(0, cancelled.ToString());
            await cluster.WaitUntilIdleAsync();
        }
    }

    [Fact]
    public async Task List_prints_a_header_and_one_tab_separated_row_per_calculation_of_the_status_asked()
    {
        var done = await Calc("submit", "power", "2", "10", "--watch");
        done.ExitCode.ShouldBe(0, done.ToString());
        var first = Field(done, "id");
        var failed = Field(await Calc("submit", "division", "1", "0", "--watch"), "id");

        var run = await Calc("list", "--status", "done", "--page-size", "100");

        run.ExitCode.ShouldBe(0, run.ToString());
        run.Lines[0].ShouldBe("ID\tTYPE\tSTATUS\tPRIORITY\tRESULT\tCREATED");
        var rows = run.Lines.Skip(1).Select(l => l.Split('\t')).ToList();
        rows.ShouldAllBe(r => r.Length == 6 && r[2] == "done");
        rows.ShouldContain(r => r[0] == first && r[1] == "power" && r[4] == "1024");
        rows.ShouldNotContain(r => r[0] == failed);
        run.Error.ShouldContain("page 1");
    }

    [Fact]
    public async Task Status_prints_one_row_per_registered_instance()
    {
        var run = await Calc("status");

        run.ExitCode.ShouldBe(0, run.ToString());
        run.Lines[0].ShouldBe("SERVICE\tINSTANCE\tURL\tCAPACITY\tPROCESSING\tLOAD\tIN_FLIGHT\tCIRCUIT");
        var row = run.Lines.Select(l => l.Split('\t')).Single(r => r[1] == CliSystem.InstanceId);
        row[0].ShouldBe("calculations");
        row[3].ShouldBe("1");
        row[7].ShouldBe("closed");
    }

    [Fact]
    public async Task Json_output_is_the_APIs_JSON()
    {
        var id = (await Calc("submit", "subtraction", "10", "3")).Output.Trim();

        var run = await Calc("watch", id, "--json");

        run.ExitCode.ShouldBe(0, run.ToString());
        var json = JsonNode.Parse(run.Output)!;
        json["id"]!.GetValue<string>().ShouldBe(id);
        json["result"]!.GetValue<long>().ShouldBe(7);
    }

    [Fact]
    public async Task Every_create_term_and_finalize_carries_an_Idempotency_Key_of_its_own_so_the_gateway_may_send_it_again()
    {
        // A stand-in gateway that records what the CLI sends.
        await using var gateway = new HttpReceiver
        {
            Answer = request => request.Method == "POST"
                ? (201, """{"id":"c1","status":"building"}""")
                : (200, """{"id":"c1","status":"building","termCount":1}"""),
        };
        await gateway.StartAsync();
        var url = new Uri(gateway.Url());

        (await CalcCli.RunAsync(url, "create", "addition", "1")).ExitCode.ShouldBe(0);
        (await CalcCli.RunAsync(url, "add", "c1", "2", "3")).ExitCode.ShouldBe(0);
        (await CalcCli.RunAsync(url, "finalize", "c1")).ExitCode.ShouldBe(0);

        var keys = gateway.Received.Select(r => r.Headers.GetValueOrDefault("Idempotency-Key")).ToList();
        keys.Count.ShouldBe(4, string.Join("\n", gateway.Received.Select(r => $"{r.Method} {r.Path}")));
        keys.ShouldAllBe(key => key != null && key.StartsWith("cli-", StringComparison.Ordinal) && key.Length <= 64);
        keys.Distinct().Count().ShouldBe(4, "one key per request, never reused for another");
    }
}
