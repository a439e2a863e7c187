using Calc.Core.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Calc.Core.Discovery;

/// <summary>Wiring for self-registration with the gateway and load reporting; <see cref="ServiceDefaults"/> calls it.</summary>
public static class DiscoveryExtensions
{
    /// <summary>
    /// Registers <see cref="GatewayRegistration"/> (active only when <c>Gateway:Url</c> is set) with its options from the
    /// <c>Gateway</c> section.
    /// </summary>
    public static IHostApplicationBuilder AddGatewayRegistration(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddValidatedOptions<GatewayRegistrationOptions>(GatewayRegistrationOptions.SectionName);
        builder.Services.AddHostedService<GatewayRegistration>();
        return builder;
    }

    /// <summary>Registers the service's <see cref="ILoadReporter"/>, used by heartbeats and the load header.</summary>
    public static IServiceCollection AddLoadReporter<TReporter>(this IServiceCollection services)
        where TReporter : class, ILoadReporter =>
        services.AddSingleton<ILoadReporter, TReporter>();

    /// <summary>Adds the <see cref="InstanceLoad.HeaderName"/> header to every response when an <see cref="ILoadReporter"/> is registered.</summary>
    public static IApplicationBuilder UseLoadHeader(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.ApplicationServices.GetService<ILoadReporter>() is null ? app : app.UseMiddleware<LoadHeaderMiddleware>();
    }
}
