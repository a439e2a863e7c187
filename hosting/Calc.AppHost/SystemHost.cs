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
                    gateway = WithReadiness(resource, app).WaitFor(cache!);
                    break;
                default:
                    // Services register with the gateway as they start.
                    WithReadiness(resource, app).WaitFor(gateway!);
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

    private static IResourceBuilder<ExecutableResource> WithReadiness(IResourceBuilder<ExecutableResource> resource, AppLaunch app) =>
        resource.WithHttpEndpoint(port: app.Port, name: "http", isProxied: false).WithHttpHealthCheck("/health/ready", endpointName: "http");

    // The cache speaks RESP, not HTTP: healthy once it accepts connections.
    private static string AddAcceptsConnectionsCheck(IDistributedApplicationBuilder builder, AppLaunch app)
    {
        var name = $"{app.Name}-accepts-connections";
        builder.Services.AddHealthChecks().AddAsyncCheck(name, async cancellationToken =>
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, app.Port, cancellationToken);
                return HealthCheckResult.Healthy();
            }
            catch (SocketException exception)
            {
                return HealthCheckResult.Unhealthy(exception.Message);
            }
        });
        return name;
    }
}
