using System.Diagnostics;
using Calc.Testing;

namespace Calc.Cli.Tests;

/// <summary>What one run of <c>calc</c> gave: its exit code and what it wrote to stdout and stderr.</summary>
public sealed record CliRun(int ExitCode, string Output, string Error)
{
    public string[] Lines => Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Output}\n--- stderr\n{Error}";
}

/// <summary>Runs the built <c>calc</c> (cli/Calc.Cli's output) as a process, as a script would: stdout redirected, so plain output.</summary>
public static class CalcCli
{
    public static string Assembly => BuildOutput.Find("cli/Calc.Cli", "calc");

    public static async Task<CliRun> RunAsync(Uri? gateway, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Assembly);
        if (gateway is not null)
        {
            start.ArgumentList.Add("--gateway");
            start.ArgumentList.Add(gateway.ToString());
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // The URL comes from --gateway alone, whatever the environment running the tests says.
        start.Environment.Remove("CALC_GATEWAY_URL");
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(120));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"calc {string.Join(' ', arguments)} did not finish within 120 s");
        }

        return new CliRun(process.ExitCode, await output, await error);
    }
}
