namespace Calc.Data.Testing;

/// <summary>A database a provider's compliance tests run against, as the configuration a service would be given.</summary>
public interface IDocumentStoreFixture
{
    /// <summary>The <c>Database</c> section: provider and connection string.</summary>
    IReadOnlyDictionary<string, string?> Settings { get; }

    /// <summary>Offers the provider under test, as a service offers its providers to <c>AddDocumentStore</c>.</summary>
    void Offer(DocumentStoreProviders providers);
}
