using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Calc.Jobs.Queueing;

/// <summary>Registers the job queue chosen by configuration.</summary>
public static class QueueingServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IJobQueue"/> (a singleton) for the provider named by <c>Queue:Provider</c>
    /// (<see cref="QueueOptions"/>, validated when the host starts).
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The configuration holding the <c>Queue</c> section.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddJobQueue(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<QueueOptions>()
            .Bind(configuration.GetSection(QueueOptions.SectionName))
            .PostConfigure(o => o.Provider = o.Provider.Trim().ToLowerInvariant())
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<InProcessJobQueue>();
        services.TryAddSingleton<RabbitMqJobQueue>();
        services.TryAddSingleton<IJobQueue>(provider => provider.GetRequiredService<IOptions<QueueOptions>>().Value.Provider == QueueOptions.RabbitMq
            ? provider.GetRequiredService<RabbitMqJobQueue>()
            : provider.GetRequiredService<InProcessJobQueue>());
        return services;
    }

    /// <summary>Adds a readiness check that fails while the job queue cannot be reached.</summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="tags">Tags of the check (e.g. <c>ready</c>).</param>
    /// <returns>The builder.</returns>
    public static IHealthChecksBuilder AddJobQueueCheck(this IHealthChecksBuilder builder, params string[] tags)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new HealthCheckRegistration(
            "queue",
            provider => new JobQueueHealthCheck(provider.GetRequiredService<IJobQueue>()),
            HealthStatus.Unhealthy,
            tags,
            TimeSpan.FromSeconds(5)));
    }

    private sealed class JobQueueHealthCheck(IJobQueue queue) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                await queue.CheckAsync(cancellationToken);
                return HealthCheckResult.Healthy();
            }
            catch (QueueUnavailableException exception)
            {
                return HealthCheckResult.Unhealthy(exception.Message);
            }
        }
    }
}
