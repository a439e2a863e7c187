using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Calc.Data;

/// <summary>Registers the document store and its collections.</summary>
public static class DocumentStoreServiceCollectionExtensions
{
    /// <summary>
    /// Registers the document store that the <c>Database</c> configuration section chooses (see <see cref="DatabaseOptions"/>)
    /// among the providers the service offers, e.g.
    /// <c>services.AddDocumentStore(configuration, providers => providers.AddMarten().AddMongo().AddSqlite())</c>.
    /// Options are validated on start (an unknown provider fails, naming the offered ones); the store prepares its
    /// collections when the host starts; a background service purges expired documents. Documents are serialized with
    /// <see cref="JsonSerializerDefaults.Web"/> and enums as camelCase strings.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The configuration holding the <c>Database</c> section.</param>
    /// <param name="offer">Adds the providers the service offers (each provider package has an <c>AddXxx()</c>).</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddDocumentStore(this IServiceCollection services, IConfiguration configuration, Action<DocumentStoreProviders> offer) =>
        services.AddDocumentStore(configuration, offer, DocumentJson.CreateDefaultOptions());

    /// <summary>
    /// Registers the document store as <see cref="AddDocumentStore(IServiceCollection, IConfiguration, Action{DocumentStoreProviders})"/>
    /// does, serializing documents with the given options instead of the defaults.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The configuration holding the <c>Database</c> section.</param>
    /// <param name="offer">Adds the providers the service offers.</param>
    /// <param name="serializerOptions">The System.Text.Json options used for every document.</param>
    /// <returns>The service collection.</returns>
    /// <exception cref="InvalidOperationException">No provider is offered, or a store is registered already.</exception>
    public static IServiceCollection AddDocumentStore(
        this IServiceCollection services,
        IConfiguration configuration,
        Action<DocumentStoreProviders> offer,
        JsonSerializerOptions serializerOptions)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(offer);
        ArgumentNullException.ThrowIfNull(serializerOptions);
        if (services.Any(descriptor => descriptor.ServiceType == typeof(DocumentStoreProviders)))
        {
            throw new InvalidOperationException("AddDocumentStore is called twice: offer every provider in one call.");
        }

        var providers = new DocumentStoreProviders();
        offer(providers);
        if (providers.All.Count == 0)
        {
            throw new InvalidOperationException("AddDocumentStore needs at least one provider, e.g. providers => providers.AddSqlite().");
        }

        services.AddSingleton(providers);
        services.AddOptions<DatabaseOptions>()
            .Bind(configuration.GetSection(DatabaseOptions.SectionName))
            .PostConfigure(options =>
            {
                if (providers.Find(options.Provider) is { } provider)
                {
                    options.Provider = provider.Name;
                    if (string.IsNullOrWhiteSpace(options.ConnectionString))
                    {
                        options.ConnectionString = provider.DefaultConnectionString;
                    }
                }
            })
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DatabaseOptions>>(new DatabaseOptionsValidator(providers)));
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IDocumentStore>(provider =>
        {
            var options = provider.GetRequiredService<IOptions<DatabaseOptions>>().Value;
            return providers.Find(options.Provider)!.CreateStore(new DocumentStoreContext(
                options,
                serializerOptions,
                provider.GetRequiredService<TimeProvider>(),
                [.. provider.GetServices<IDocumentCollection>()],
                provider.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance));
        });
        // Registered before the purger, so the schema is in place before its first tick.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, DocumentStoreInitializer>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ExpiredDocumentPurger>(provider => new ExpiredDocumentPurger(
            provider.GetServices<ExpiringCollection>(),
            provider.GetRequiredService<IOptions<DatabaseOptions>>(),
            provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<ILogger<ExpiredDocumentPurger>>())));
        return services;
    }

    /// <summary>
    /// Registers <see cref="IDocumentRepository{T}"/> (a singleton) for one collection, on the provider configured by
    /// <c>AddDocumentStore</c>. The store prepares it (table, indexes) when the host starts, or on first use.
    /// </summary>
    /// <typeparam name="T">The document type.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="collection">The collection's name, indexed field and sort key.</param>
    /// <returns>The service collection.</returns>
    /// <exception cref="ArgumentException">The collection name is not a lower case identifier.</exception>
    /// <exception cref="InvalidOperationException">The document type or the collection name is registered already.</exception>
    public static IServiceCollection AddDocumentCollection<T>(this IServiceCollection services, DocumentCollection<T> collection) where T : class
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(collection);
        DocumentGuard.CollectionName(collection.Name, nameof(collection));

        foreach (var registered in services.Select(descriptor => descriptor.ImplementationInstance).OfType<IDocumentCollection>())
        {
            if (registered.DocumentType == typeof(T) || registered.Name == collection.Name)
            {
                throw new InvalidOperationException(
                    $"Collection '{collection.Name}' for {typeof(T).Name} conflicts with collection '{registered.Name}' for {registered.DocumentType.Name}: each document type and each name can be registered once.");
            }
        }

        services.AddSingleton<IDocumentCollection>(collection);
        services.AddSingleton(provider =>
        {
            var store = provider.GetService<IDocumentStore>()
                ?? throw new InvalidOperationException("No document store is registered: call services.AddDocumentStore(configuration, providers => ...) as well.");
            return store.CreateRepository(collection);
        });
        services.AddSingleton(provider => new ExpiringCollection(
            collection.Name,
            cancellationToken => provider.GetRequiredService<IDocumentRepository<T>>().PurgeExpiredAsync(cancellationToken)));
        return services;
    }
}

/// <summary>A registered collection as the background purger sees it.</summary>
internal sealed record ExpiringCollection(string Name, Func<CancellationToken, Task<long>> PurgeExpiredAsync);

/// <summary>Prepares the store's collections when the host starts, so a mapping or schema error stops the start.</summary>
internal sealed class DocumentStoreInitializer(IDocumentStore store) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => store.InitializeAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
