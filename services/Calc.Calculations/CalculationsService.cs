using Calc.Calculations.Domain;
using Calc.Calculations.Processing;
using Calc.Core.Callbacks;
using Calc.Core.Discovery;
using Calc.Core.Hosting;
using Calc.Core.Idempotency;
using Calc.Core.Scheduling;
using Calc.Core.Validation;
using Calc.Data;
using Calc.Data.Marten;
using Calc.Data.Mongo;
using Calc.Data.Sqlite;

namespace Calc.Calculations;

/// <summary>The Calculations service's table of contents: what it registers and which endpoints it maps.</summary>
internal static class CalculationsService
{
    public static IHostApplicationBuilder AddCalculations(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        builder.AddEndpointSlices(typeof(CalculationsService).Assembly);
        services.AddValidatedOptions<CalculationsOptions>(CalculationsOptions.SectionName);
        services.AddValidatedOptions<CapacityOptions>(CapacityOptions.SectionName);

        // Database:Provider picks one of these at start: marten (alias postgres) or sqlite.
        services.AddDocumentStore(builder.Configuration, providers => providers.AddMarten().AddMongo().AddSqlite());
        services.AddDocumentCollection(CalculationStore.Collection);
        services.AddHealthChecks().AddDocumentStoreCheck();
        services.AddCallbacks<CalculationCallbackSource>();
        services.AddIdempotencyKeys();

        services.AddSingleton<RecentCopies>();
        services.AddSingleton<WorkScheduler>();
        services.AddSingleton<CalculationsMetrics>();
        services.AddLoadReporter<WorkSchedulerLoadReporter>();
        services.AddSingleton<CalculationProcessor>();
        services.AddSingleton<AbandonedCalculationRecovery>();
        services.AddHostedService(sp => sp.GetRequiredService<AbandonedCalculationRecovery>());
        services.AddHostedService<LeaseRenewer>();
        services.AddHostedService<SchedulerShutdown>(); // last registered, first stopped
        return builder;
    }

    /// <summary>
    /// Maps the service's endpoints: one FastEndpoints slice per use case under <c>Features/</c>, found by scanning
    /// this assembly. The README's route table lists them (a test holds it to what the app maps).
    /// </summary>
    public static WebApplication MapCalculations(this WebApplication app)
    {
        app.UseEndpointSlices();
        return app;
    }
}
