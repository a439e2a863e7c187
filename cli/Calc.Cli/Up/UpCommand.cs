using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Calc.Cli.Output;
using Calc.LocalServers;
using Calc.LocalServers.Launch;

namespace Calc.Cli.Up;

/// <summary>
/// <c>calc up</c>: the front of the Aspire app host (hosting/Calc.AppHost), which starts the whole system on this
/// machine, prints the gateway, Calc dashboard and Aspire dashboard URLs and every app's log, and on SIGINT (Ctrl+C) or
/// SIGTERM stops the services first, then the gateway and the cache. <c>calc up</c> runs it from its build output in a
/// session of its own (so a Ctrl+C at the terminal reaches only <c>calc up</c>, which passes it on as SIGTERM: a host in
/// the background ignores SIGINT), and a watchdog stops it if <c>calc up</c> is killed. The exit code is the app
/// host's: 0 after a stop, 1 when the system did not start (the reason is printed), 3 when the gateway's address is taken.
/// </summary>
internal static class UpCommand
{
    // The app host stops services within 20 s each, then the gateway and the cache within 10 s each.
    private static readonly TimeSpan AppHostStopGrace = TimeSpan.FromSeconds(60);

    public static Command Create()
    {
        var urls = new Option<string>("--urls")
        {
            Description = "Where the gateway listens",
            DefaultValueFactory = _ => "http://127.0.0.1:5080",
            HelpName = "url",
        };
        var profile = new Option<string>("--profile")
        {
            Description = "embedded: SQLite files and the in-process queue, nothing to install; full: throwaway PostgreSQL, Redis and RabbitMQ from this machine's packages",
            DefaultValueFactory = _ => SystemSettings.Embedded,
        };
        profile.AcceptOnlyFromAmong(SystemSettings.Embedded, SystemSettings.Full);
        var dataDirectory = new Option<string>("--data-dir")
        {
            Description = "Where the embedded profile keeps its SQLite files",
            DefaultValueFactory = _ => Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify), "calc"),
            HelpName = "dir",
        };
        var instances = new Option<int>("--calculations")
        {
            Description = "How many Calculations instances to start",
            DefaultValueFactory = _ => 2,
            HelpName = "count",
        };
        instances.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is < 1 or > SystemSettings.MaxCalculationInstances)
            {
                result.AddError($"--calculations must be between 1 and {SystemSettings.MaxCalculationInstances}.");
            }
        });
        var aspireUrls = new Option<string>("--aspire-urls")
        {
            Description = "Where the Aspire dashboard listens (every app's logs, traces and metrics)",
            DefaultValueFactory = _ => "http://127.0.0.1:18888",
            HelpName = "url",
        };

        var command = new Command("up", "Start the whole system on this machine (cache, gateway, services) under the Aspire app host; Ctrl+C stops it")
        {
            urls, profile, dataDirectory, instances, aspireUrls,
        };
        command.SetAction(async (parse, _) =>
        {
            foreach (var (option, value) in new[] { ("--urls", parse.GetValue(urls)!), ("--aspire-urls", parse.GetValue(aspireUrls)!) })
            {
                if (!Uri.TryCreate(value, UriKind.Absolute, out var url) || url.Scheme != Uri.UriSchemeHttp)
                {
                    Terminal.Error($"{option} must be an http URL such as http://127.0.0.1:5080, not '{value}'");
                    return ExitCodes.Usage;
                }
            }

            return await RunAsync(
            [
                "--profile", parse.GetValue(profile)!, "--urls", parse.GetValue(urls)!,
                "--calculations", parse.GetValue(instances).ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--data-dir", Path.GetFullPath(parse.GetValue(dataDirectory)!), "--aspire-urls", parse.GetValue(aspireUrls)!,
            ]);
        });
        return command;
    }

    private static async Task<int> RunAsync(string[] appHostArguments)
    {
        string appHost;
        try
        {
            appHost = BuildOutput.Find("hosting/Calc.AppHost");
        }
        catch (Exception exception) when (exception is FileNotFoundException or InvalidOperationException)
        {
            Terminal.Error($"the system did not start: {exception.Message}");
            return ExitCodes.WorkFailed;
        }

        // setsid gives the app host its own session (and, not being a group leader, it execs without forking: same PID).
        var setsid = File.Exists("/usr/bin/setsid");
        var start = new ProcessStartInfo(setsid ? "/usr/bin/setsid" : "dotnet") { UseShellExecute = false, WorkingDirectory = Path.GetDirectoryName(appHost)! };
        foreach (var argument in (string[])[.. setsid ? ["dotnet"] : Array.Empty<string>(), appHost, .. appHostArguments])
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_NOLOGO"] = "1";
        using var host = Process.Start(start) ?? throw new InvalidOperationException("Could not start the app host.");
        var watchdog = ProcessTools.StopWhenThisProcessDies(host, AppHostStopGrace);
        void OnSignal(PosixSignalContext context)
        {
            // Passed on as SIGTERM (a second one kills the apps at once); this process ends when the app host does.
            context.Cancel = true;
            if (!host.HasExited)
            {
                ProcessTools.Signal(host.Id, "TERM");
            }
        }

        using (PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal))
        using (PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal))
        {
            await host.WaitForExitAsync();
        }

        ProcessTools.Kill(ref watchdog);
        return host.ExitCode;
    }
}
