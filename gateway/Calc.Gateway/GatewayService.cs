using System.Net;
using Calc.Core.Hosting;
using Calc.Gateway.Balancing;
using Calc.Gateway.Forwarding;
using Calc.Gateway.Limits;
using Calc.Gateway.Registry;
using Calc.Gateway.Rpc;
using Calc.Gateway.Status;
using Microsoft.Extensions.Options;

namespace Calc.Gateway;

/// <summary>The gateway's table of contents: what it registers and which endpoints it maps.</summary>
internal static class GatewayService
{
    public static IHostApplicationBuilder AddGateway(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        var configuration = builder.Configuration;
        services.AddOptions<List<GatewayRoute>>().BindConfiguration("Routes")
            .Validate(RoutesAreValid, "Routes: at least one is needed; each needs a Prefix like /calculations and a lower-case Service name, prefixes distinct and not /status, /internal, /health, /openapi, /swagger, /dashboard or /metrics.")
            .ValidateOnStart();
        services.AddValidatedOptions<RegistryOptions>(RegistryOptions.SectionName);
        services.AddValidatedOptions<BalancingOptions>(BalancingOptions.SectionName);
        services.AddValidatedOptions<ResilienceOptions>(ResilienceOptions.SectionName);
        services.AddValidatedOptions<LimitsOptions>(LimitsOptions.SectionName);
        services.AddValidatedOptions<RateLimitingOptions>(RateLimitingOptions.SectionName);
        services.AddValidatedOptions<PerformanceOptions>(PerformanceOptions.SectionName);
        UseInlineIo(builder);
        services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(kestrel =>
        {
            var limits = configuration.GetSection(LimitsOptions.SectionName).Get<LimitsOptions>() ?? new LimitsOptions();
            kestrel.Limits.MaxRequestBodySize = limits.MaxRequestBodyBytes;
            kestrel.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(limits.KeepAliveSeconds);
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(limits.RequestHeadersSeconds);
            kestrel.AddServerHeader = false; // The instance's own Server header passes through.
        });

        // Registry: shared in the cache, seen through ServiceRegistry, reread in the background.
        services.AddSingleton(_ => new RegistryCacheConnection(configuration.GetRequired("Cache:Endpoint")));
        services.AddSingleton<IRegistryStore, CacheRegistryStore>();
        services.AddSingleton<ServiceRegistry>();
        services.AddHostedService<RegistryRefresher>();

        // Forwarding: one pooled keep-alive connection set to all instances.
        services.AddSingleton(sp => CreateInvoker(sp.GetRequiredService<IOptions<ResilienceOptions>>().Value));
        services.AddSingleton<LoadBalancer>();
        services.AddSingleton<Forwarder>();
        services.AddSingleton<ClientRateLimiting>();
        services.AddHostedService<GatewayMetrics>();

        // The fast lane (Linux x64): plain forwards straight from epoll loops, everything else through Kestrel.
        services.AddSingleton<FastLane.FastLaneServices>();
        if (FastLane.FastLaneTransportFactory.IsSupported
            && configuration.GetValue(PerformanceOptions.SectionName + ":FastLane", new PerformanceOptions().FastLane))
        {
            // Registered after Kestrel's socket transport, so it is the one Kestrel binds with.
            services.AddSingleton<Microsoft.AspNetCore.Connections.IConnectionListenerFactory, FastLane.FastLaneTransportFactory>();
        }

        return builder;
    }

    /// <summary>The gateway's own endpoints; the routes to services are served by <see cref="RouteForwarding"/>.</summary>
    public static WebApplication MapGateway(this WebApplication app)
    {
        InternalRpc.WarnWhenNoKey(app);
        app.MapInternalRpc();
        app.MapGatewayStatus();
        return app;
    }

    /// <summary>
    /// With <c>Performance:InlineIo</c> (opt-in, default false), socket completions run on the socket engine's thread
    /// and Kestrel runs the request there too, instead of handing every read (client's and instance's) to the thread
    /// pool: a forwarded request then crosses no thread. Anything slow on that thread stalls every connection it
    /// serves, and on the shared 2-core benchmark machine it did not measurably help (bench/RESULTS.md), hence off by
    /// default. It has to be set before the first socket is created (the runtime reads the variable once).
    /// </summary>
    private static void UseInlineIo(IHostApplicationBuilder builder)
    {
        if (!builder.Configuration.GetValue(PerformanceOptions.SectionName + ":InlineIo", new PerformanceOptions().InlineIo))
        {
            return;
        }

        const string InlineCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";
        if (Environment.GetEnvironmentVariable(InlineCompletions) is null)
        {
            Environment.SetEnvironmentVariable(InlineCompletions, "1");
        }

        builder.Services.Configure<Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets.SocketTransportOptions>(o => o.UnsafePreferInlineScheduling = true);
    }

    private static HttpMessageInvoker CreateInvoker(ResilienceOptions options) =>
        new(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ConnectTimeout = TimeSpan.FromSeconds(options.ConnectTimeoutSeconds),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            MaxConnectionsPerServer = options.MaxConnectionsPerInstance,
            EnableMultipleHttp2Connections = true,
            // The default W3C propagator: the instance's span is a child of this forward's (ProxyHeaders leaves the
            // client's traceparent to it).
        }, disposeHandler: true);

    private static bool RoutesAreValid(List<GatewayRoute> routes)
    {
        string[] reserved = ["/status", "/internal", "/health", "/openapi", "/swagger", "/dashboard", Telemetry.MetricsPath];
        return routes.Count > 0 && routes.All(r =>
                   System.Text.RegularExpressions.Regex.IsMatch(r.Prefix, "^/[A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*$")
                   && System.Text.RegularExpressions.Regex.IsMatch(r.Service, "^[a-z0-9][a-z0-9-]{0,62}$")
                   && !reserved.Any(p => r.Prefix.Equals(p, StringComparison.OrdinalIgnoreCase) || r.Prefix.StartsWith(p + "/", StringComparison.OrdinalIgnoreCase)))
               && routes.Select(r => r.Prefix.ToUpperInvariant()).Distinct().Count() == routes.Count;
    }
}
