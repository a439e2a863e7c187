using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Calc.Data;

/// <summary>Registers the document store's health check.</summary>
public static class DocumentStoreHealthChecksBuilderExtensions
{
    /// <summary>The name of the check registered by <see cref="AddDocumentStoreCheck"/>.</summary>
    public const string CheckName = "database";

    /// <summary>
    /// Adds a readiness check (tag <c>ready</c>) that opens a connection to the configured database.
    /// Requires <c>services.AddDocumentStore(...)</c>.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <returns>The health checks builder.</returns>
    public static IHealthChecksBuilder AddDocumentStoreCheck(this IHealthChecksBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new HealthCheckRegistration(
            CheckName,
            provider => new DocumentStoreHealthCheck(provider.GetRequiredService<IDocumentStore>()),
            failureStatus: null,
            tags: ["ready"]));
    }
}
