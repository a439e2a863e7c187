using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Calc.Data;

/// <summary>
/// A provider a service offers for <c>Database:Provider</c>: its name (and aliases), how its configuration is checked
/// at start, and how its store is built. Each provider package has an extension on <see cref="DocumentStoreProviders"/>
/// that adds its own (e.g. <c>providers.AddMarten()</c>), so the abstractions know no provider at compile time.
/// </summary>
public sealed class DocumentStoreProvider
{
    /// <summary>The canonical name, lower case (e.g. <c>marten</c>).</summary>
    public required string Name { get; init; }

    /// <summary>Other names accepted for it (e.g. <c>postgres</c> for <c>marten</c>), lower case.</summary>
    public IReadOnlyList<string> Aliases { get; init; } = [];

    /// <summary>Used when <c>Database:ConnectionString</c> is empty; null means the connection string is required.</summary>
    public string? DefaultConnectionString { get; init; }

    /// <summary>An example connection string, shown when it is missing.</summary>
    public required string ConnectionStringExample { get; init; }

    /// <summary>
    /// Checks a (non-empty) connection string; returns the reason it is invalid, or null. The reason must not repeat
    /// the connection string, which may hold a password.
    /// </summary>
    public Func<string, string?> ValidateConnectionString { get; init; } = static _ => null;

    /// <summary>Builds the store for the validated options and every registered collection.</summary>
    public required Func<DocumentStoreContext, IDocumentStore> CreateStore { get; init; }

    internal bool IsNamed(string? name)
    {
        var trimmed = name?.Trim();
        return string.Equals(Name, trimmed, StringComparison.OrdinalIgnoreCase)
            || Aliases.Any(alias => string.Equals(alias, trimmed, StringComparison.OrdinalIgnoreCase));
    }

    internal string Describe() => Aliases.Count == 0 ? Name : $"{Name} (alias {string.Join(", ", Aliases)})";
}

/// <summary>What a provider gets to build its store.</summary>
/// <param name="Options">The validated options; <see cref="DatabaseOptions.ConnectionString"/> is set.</param>
/// <param name="SerializerOptions">The System.Text.Json options every document is serialized with.</param>
/// <param name="Time">The clock that decides what has expired.</param>
/// <param name="Collections">Every collection registered with <c>AddDocumentCollection</c>.</param>
/// <param name="LoggerFactory">For the store's logs.</param>
public sealed record DocumentStoreContext(
    DatabaseOptions Options,
    JsonSerializerOptions SerializerOptions,
    TimeProvider Time,
    IReadOnlyList<IDocumentCollection> Collections,
    ILoggerFactory LoggerFactory);

/// <summary>The providers a service offers, in the order given; the first matching <c>Database:Provider</c> is used.</summary>
public sealed class DocumentStoreProviders
{
    private readonly List<DocumentStoreProvider> _providers = [];

    /// <summary>The providers added so far.</summary>
    public IReadOnlyList<DocumentStoreProvider> All => _providers;

    /// <summary>Offers a provider. Provider packages call this from their own <c>AddXxx()</c> extension.</summary>
    /// <exception cref="InvalidOperationException">A provider with that name or alias is offered already.</exception>
    public DocumentStoreProviders Add(DocumentStoreProvider provider)
    {
        ArgumentNullException.ThrowIfNull(provider);
        foreach (var name in provider.Aliases.Prepend(provider.Name))
        {
            if (_providers.Any(offered => offered.IsNamed(name)))
            {
                throw new InvalidOperationException($"A document store provider named '{name}' is offered twice.");
            }
        }

        _providers.Add(provider);
        return this;
    }

    /// <summary>The provider named (or aliased) <paramref name="name"/>, matched case-insensitively, or null.</summary>
    public DocumentStoreProvider? Find(string? name) => _providers.FirstOrDefault(provider => provider.IsNamed(name));

    internal string DescribeAll() => string.Join(", ", _providers.Select(provider => provider.Describe()));
}
