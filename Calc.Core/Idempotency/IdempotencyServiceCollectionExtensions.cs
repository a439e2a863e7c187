using Calc.Core.Hosting;
using Calc.Data;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Calc.Core.Idempotency;

/// <summary>Registers idempotency keys.</summary>
public static class IdempotencyServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IdempotencyKeys"/> with its options (<c>Idempotency</c> section, validated on start) and the
    /// <c>idempotency_keys</c> document collection in the service's document store (call <c>AddDocumentStore</c> and
    /// <c>AddServiceDefaults</c> as well: keys are scoped by the service's name).
    /// </summary>
    /// <param name="services">The service collection.</param>
    public static IServiceCollection AddIdempotencyKeys(this IServiceCollection services)
    {
        services.AddValidatedOptions<IdempotencyOptions>(IdempotencyOptions.SectionName);
        services.AddDocumentCollection(IdempotencyStore.Collection);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(provider => new IdempotencyKeys(
            provider.GetRequiredService<IDocumentRepository<IdempotencyRecord>>(),
            provider.GetRequiredService<IOptions<IdempotencyOptions>>(),
            provider.GetRequiredService<ServiceIdentity>(),
            provider.GetRequiredService<TimeProvider>()));
        return services;
    }
}
