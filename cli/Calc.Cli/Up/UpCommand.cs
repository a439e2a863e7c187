using System.CommandLine;
using System.Runtime.InteropServices;
using Calc.Cli.Output;

namespace Calc.Cli.Up;

/// <summary>
/// <c>calc up</c>: starts the whole system on this machine (see <see cref="ClusterLauncher"/>), prints the gateway and
/// dashboard URLs, and runs until SIGINT (Ctrl+C) or SIGTERM, then stops everything and exits 0. A second Ctrl+C kills
/// the apps at once. Exits 1 when the system could not start (the reason is printed), 3 when the gateway's address is taken.
/// </summary>
internal static class UpCommand
{
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
            DefaultValueFactory = _ => UpSettings.Embedded,
        };
        profile.AcceptOnlyFromAmong(UpSettings.Embedded, UpSettings.Full);
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
            if (result.GetValueOrDefault<int>() is < 1 or > 16)
            {
                result.AddError("--calculations must be between 1 and 16.");
            }
        });

        var command = new Command("up", "Start the whole system on this machine (cache, gateway, services); Ctrl+C stops it")
        {
            urls, profile, dataDirectory, instances,
        };
        command.SetAction(async (parse, _) =>
        {
            var url = parse.GetValue(urls)!;
            if (!Uri.TryCreate(url, UriKind.Absolute, out var gatewayUrl) || gatewayUrl.Scheme != Uri.UriSchemeHttp)
            {
                Terminal.Error($"--urls must be an http URL such as http://127.0.0.1:5080, not '{url}'");
                return ExitCodes.Usage;
            }

            var settings = new UpSettings(gatewayUrl, parse.GetValue(profile)!, Path.GetFullPath(parse.GetValue(dataDirectory)!), parse.GetValue(instances));
            return await RunAsync(settings);
        });
        return command;
    }

    private static async Task<int> RunAsync(UpSettings settings)
    {
        var log = new LogWriter();
        await using var launcher = new ClusterLauncher(settings, log);
        using var stopping = new CancellationTokenSource();
        var signals = 0;
        void OnSignal(PosixSignalContext context)
        {
            // Handled here: the runtime's default would end this process before its children are stopped.
            context.Cancel = true;
            if (Interlocked.Increment(ref signals) == 1)
            {
                log.Info($"{context.Signal} received: stopping (again to kill at once)");
                stopping.Cancel();
            }
            else
            {
                log.Info("killing the apps now");
                launcher.KillApps();
            }
        }

        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);

        try
        {
            await launcher.StartAsync(stopping.Token);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            await launcher.StopAsync();
            return ExitCodes.Ok;
        }
        catch (CliException exception)
        {
            Terminal.Error(exception.Message);
            await launcher.StopAsync();
            return exception.ExitCode;
        }
        catch (Exception exception) when (exception is InvalidOperationException or TimeoutException or IOException or HttpRequestException)
        {
            Terminal.Error($"the system did not start: {exception.Message}");
            await launcher.StopAsync();
            return ExitCodes.WorkFailed;
        }

        log.Info($"Calc is up ({settings.Profile} profile, {settings.CalculationInstances} calculations instances, jobs{(settings.IsFull ? " api + worker" : "")})");
        log.Info($"gateway:   {settings.GatewayUrl}");
        log.Info($"dashboard: {settings.DashboardUrl}");
        log.Info($"try:       calc --gateway {settings.GatewayUrl.GetLeftPart(UriPartial.Authority)} submit factorial 100 --watch");
        log.Info("Ctrl+C stops everything");
        try
        {
            await Task.Delay(Timeout.Infinite, stopping.Token);
        }
        catch (OperationCanceledException)
        {
            // Asked to stop.
        }

        await launcher.StopAsync();
        return ExitCodes.Ok;
    }
}
