using System.Net;
using System.Net.Sockets;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Calc.LocalServers.Launch;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Calc.AppHost;

/// <summary>
/// Turns <see cref="SystemPlan"/>'s apps into Aspire executable resources (<c>dotnet &lt;dll&gt;</c> from the build
/// output, with their settings and the OTLP variables pointing at the dashboard) and runs them until stopped.
/// </summary>
internal static class SystemHost
{
    private static readonly TimeSpan ReadinessPoll = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan ReadinessWait = TimeSpan.FromSeconds(30);
    private static readonly HttpClient ReadinessHttp = new() { Timeout = TimeSpan.FromSeconds(5) };

    public static async Task<int> RunAsync(AppHostOptions options, LogWriter log, FullProfileServers? servers)
    {
        var settings = options.System;
        StorageWiring storage;
        try
        {
            if (servers is null)
            {
                storage = StorageWiring.Embedded(settings.DataDirectory);
                log.Info($"embedded profile: SQLite files in {settings.DataDirectory}, the in-process job queue");
            }
            else
            {
                storage = await servers.StartAsync(CancellationToken.None);
            }
        }
        catch (Exception exception) when (exception is InvalidOperationException or TimeoutException or IOException)
        {
            await Console.Error.WriteLineAsync($"calc: the system did not start: {exception.Message}");
            return 1;
        }

        var apps = SystemPlan.Create(settings, storage, Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)));
        var dashboard = new AspireDashboard(options.AspireDashboardUrl);
        var builder = DistributedApplication.CreateBuilder(new DistributedApplicationOptions { Args = dashboard.ConfigurationArguments() });
        dashboard.ReadToken(builder.Configuration);

        var resources = new Dictionary<string, IResource>(StringComparer.Ordinal);
        IResourceBuilder<ExecutableResource>? cache = null;
        IResourceBuilder<ExecutableResource>? gateway = null;
        foreach (var app in apps)
        {
            var assembly = app.Assembly;
            var resource = builder.AddExecutable(app.Name, "dotnet", Path.GetDirectoryName(assembly)!, [assembly, .. app.Arguments])
                .WithOtlpExporter(OtlpProtocol.HttpProtobuf);
            foreach (var (key, value) in app.Environment)
            {
                resource.WithEnvironment(key, value);
            }

            switch (app.Role)
            {
                case AppRole.Cache:
                    resource.WithHealthCheck(AddAcceptsConnectionsCheck(builder, app));
                    cache = resource;
                    break;
                case AppRole.Gateway:
                    gateway = WithReadiness(builder, resource, app).WaitFor(cache!);
                    break;
                default:
                    // Services register with the gateway as they start.
                    WithReadiness(builder, resource, app).WaitFor(gateway!);
                    break;
            }

            resources[app.Name] = resource.Resource;
        }

        var system = new LaunchedSystem(settings, apps, resources, log);
        builder.Services.AddSingleton(system);
        builder.Services.AddSingleton(dashboard);
        // Room for the ordered stop: services 20 s, then the gateway and the cache 10 s each, at most.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(90));
        builder.Services.AddSingleton<OrderedStop>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<OrderedStop>());
        builder.Services.AddHostedService<ConsoleLog>();
        builder.Services.AddHostedService<StartupWatch>();

        await using (var application = builder.Build())
        {
            await application.RunAsync();
        }

        return system.ExitCode;
    }

    private static IResourceBuilder<ExecutableResource> WithReadiness(IDistributedApplicationBuilder builder, IResourceBuilder<ExecutableResource> resource, AppLaunch app)
    {
        var ready = new Uri(app.BaseAddress!, "/health/ready");
        return resource.WithHttpEndpoint(port: app.Port, name: "http", isProxied: false)
            .WithHealthCheck(AddReadinessCheck(builder, $"{app.Name}-ready", async cancellationToken =>
            {
                using var response = await ReadinessHttp.GetAsync(ready, cancellationToken);
                return response.IsSuccessStatusCode;
            }));
    }

    // The cache speaks RESP, not HTTP: healthy once it accepts connections.
    private static string AddAcceptsConnectionsCheck(IDistributedApplicationBuilder builder, AppLaunch app) =>
        AddReadinessCheck(builder, $"{app.Name}-accepts-connections", async cancellationToken =>
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, app.Port, cancellationToken);
            return true;
        });

    /// <summary>
    /// A health check that asks again every <see cref="ReadinessPoll"/> for up to <see cref="ReadinessWait"/> before it
    /// answers Unhealthy. Aspire runs a resource's checks with growing pauses while it is unhealthy (1 s, 2 s, ... 5 s):
    /// one check that answered at once would leave an app that became ready meanwhile waiting seconds to be noticed, and
    /// each app waits for the one before it (cache, gateway, services), so those pauses added up at every start.
    /// </summary>
    private static string AddReadinessCheck(IDistributedApplicationBuilder builder, string name, Func<CancellationToken, Task<bool>> probe)
    {
        builder.Services.AddHealthChecks().AddAsyncCheck(name, async cancellationToken =>
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var reason = "not ready";
            while (true)
            {
                try
                {
                    if (await probe(cancellationToken))
                    {
                        return HealthCheckResult.Healthy();
                    }
                }
                catch (Exception exception) when (exception is SocketException or HttpRequestException
                                                      || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
                {
                    reason = exception.Message;
                }

                if (clock.Elapsed >= ReadinessWait)
                {
                    return HealthCheckResult.Unhealthy(reason);
                }

                await Task.Delay(ReadinessPoll, cancellationToken);
            }
        });
        return name;
    }
}
