using Calc.Core.Hosting;
using Calc.Core.Outbound;
using Calc.Core.Scheduling;
using Calc.Data;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Calc.Core.Callbacks;

/// <summary>Registers callbacks.</summary>
public static class CallbackServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="CallbackOutbox"/> with its options (<c>Callbacks</c> section, validated on start), the
    /// <c>callbacks</c> document collection in the service's document store, <typeparamref name="TSource"/> as the
    /// service's <see cref="ICallbackSource"/>, the work lanes, and, when <paramref name="dispatch"/> is true, the
    /// dispatcher that posts due callbacks from this process. Call <c>AddDocumentStore</c> as well.
    /// </summary>
    /// <typeparam name="TSource">Builds the posted body from the service's stored work.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="dispatch">Whether this process posts callbacks (e.g. not an API-only process).</param>
    public static IServiceCollection AddCallbacks<TSource>(this IServiceCollection services, bool dispatch = true)
        where TSource : class, ICallbackSource
    {
        services.AddValidatedOptions<CallbackOptions>(CallbackOptions.SectionName);
        services.AddDocumentCollection(CallbackStore.Collection);
        services.AddWorkLanes();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<ICallbackSource, TSource>();
        services.AddSingleton(provider => new CallbackOutbox(
            provider.GetRequiredService<IDocumentRepository<CallbackDelivery>>(),
            provider.GetRequiredService<IOptions<CallbackOptions>>(),
            provider.GetRequiredService<TimeProvider>()));
        if (dispatch)
        {
            // The attempt's own timeout bounds each call, so the client's is off. Connections go only to addresses the
            // policy allows (checked on the address dialled), and redirects are not followed.
            services.AddHttpClient(CallbackDispatcher.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
                .UseOutboundAddressPolicy(provider => provider.GetRequiredService<IOptions<CallbackOptions>>().Value.CreateAddressPolicy());
            services.AddHostedService<CallbackDispatcher>();
        }

        return services;
    }
}
