// The Aspire app host of Calc: the whole system on this machine (the cache, the gateway, N Calculations instances,
// the Jobs API and workers; under the full profile on throwaway PostgreSQL, Redis and RabbitMQ), run by DCP with the
// Aspire dashboard. What runs, with which settings, comes from Calc.LocalServers' SystemPlan. `calc up` is its front.
// Exit codes: 0 after a stop, 1 when the system did not start (the reason is printed), 2 for a bad command line,
// 3 when the gateway's address is taken.
using Calc.AppHost;
using Calc.LocalServers.Launch;

AppHostOptions options;
try
{
    options = AppHostOptions.Parse(args);
}
catch (ArgumentException exception)
{
    await Console.Error.WriteLineAsync($"calc: {exception.Message}");
    return 2;
}

if (SystemPlan.GatewayAddressProblem(options.System) is { } problem)
{
    await Console.Error.WriteLineAsync($"calc: {problem}");
    return 3;
}

var log = new LogWriter();
var servers = options.System.IsFull ? new FullProfileServers(log) : null;
try
{
    return await SystemHost.RunAsync(options, log, servers);
}
finally
{
    // After the apps, which flush to their databases and queues until they end.
    if (servers is not null)
    {
        await servers.DisposeAsync();
    }

    log.Info("stopped");
}
