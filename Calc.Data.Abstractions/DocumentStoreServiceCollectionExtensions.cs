using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Calc.Data;

/// <summary>Registers the document store and its collections.</summary>
public static class DocumentStoreServiceCollectionExtensions
{
    /// <summary>
    /// Registers the document store chosen by the <c>Database</c> configuration section (see <see cref="DatabaseOptions"/>),
    /// validated on start, and a background service that purges expired documents. Documents are serialized with
    /// <see cref="JsonSerializerDefaults.Web"/> and enums as camelCase strings.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The configuration holding the <c>Database</c> section.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddDocumentStore(this IServiceCollection services, IConfiguration configuration) =>
        services.AddDocumentStore(configuration, DocumentJson.CreateDefaultOptions());

    /// <summary>
    /// Registers the document store as <see cref="AddDocumentStore(IServiceCollection, IConfiguration)"/> does,
    /// serializing documents with the given options instead of the defaults.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The configuration holding the <c>Database</c> section.</param>
    /// <param name="serializerOptions">The System.Text.Json options used for every document.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddDocumentStore(this IServiceCollection services, IConfiguration configuration, JsonSerializerOptions serializerOptions)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(serializerOptions);

        services.AddOptions<DatabaseOptions>()
            .Bind(configuration.GetSection(DatabaseOptions.SectionName))
            .PostConfigure(options =>
            {
                options.Provider = DatabaseProviders.Find(options.Provider) ?? options.Provider;
                if (options.Provider == DatabaseProviders.Sqlite && string.IsNullOrWhiteSpace(options.ConnectionString))
                {
                    options.ConnectionString = DatabaseProviders.SqliteDefaultConnectionString;
                }
            })
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DatabaseOptions>>(new DatabaseOptionsValidator()));
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IDocumentStore>(provider => DatabaseProviders.CreateStore(
            provider.GetRequiredService<IOptions<DatabaseOptions>>().Value,
            serializerOptions,
            provider.GetRequiredService<TimeProvider>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ExpiredDocumentPurger>(provider => new ExpiredDocumentPurger(
            provider.GetServices<IExpiringCollection>(),
            provider.GetRequiredService<IOptions<DatabaseOptions>>(),
            provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<ILogger<ExpiredDocumentPurger>>())));
        return services;
    }

    /// <summary>
    /// Registers <see cref="IDocumentRepository{T}"/> (a singleton) for one collection, on the provider configured by
    /// <see cref="AddDocumentStore(IServiceCollection, IConfiguration)"/>. On the SQL providers its table is created on first use; Redis needs no schema.
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

        foreach (var registered in services.Select(descriptor => descriptor.ImplementationInstance).OfType<RegisteredCollection>())
        {
            if (registered.DocumentType == typeof(T) || registered.Name == collection.Name)
            {
                throw new InvalidOperationException(
                    $"Collection '{collection.Name}' for {typeof(T).Name} conflicts with collection '{registered.Name}' for {registered.DocumentType.Name}: each document type and each name can be registered once.");
            }
        }

        services.AddSingleton(new RegisteredCollection(collection.Name, typeof(T)));
        services.AddSingleton(provider =>
        {
            var store = provider.GetService<IDocumentStore>()
                ?? throw new InvalidOperationException("No document store is registered: call services.AddDocumentStore(configuration) as well.");
            return store.CreateRepository(collection);
        });
        services.AddSingleton(provider => (IExpiringCollection)provider.GetRequiredService<IDocumentRepository<T>>());
        return services;
    }

    private sealed record RegisteredCollection(string Name, Type DocumentType);
}
