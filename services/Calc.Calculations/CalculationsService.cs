using Calc.Calculations.Domain;
using Calc.Calculations.Features.Calculations;
using Calc.Calculations.Features.Status;
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
        services.AddValidatedOptions<CalculationsOptions>(CalculationsOptions.SectionName);
        services.AddValidatedOptions<CapacityOptions>(CapacityOptions.SectionName);

        // Database:Provider picks one of these at start: marten (alias postgres) or sqlite.
        services.AddDocumentStore(builder.Configuration, providers => providers.AddMarten().AddMongo().AddSqlite());
        services.AddDocumentCollection(CalculationStore.Collection);
        services.AddHealthChecks().AddDocumentStoreCheck();
        services.AddCallbacks<CalculationCallbackSource>();
        services.AddIdempotencyKeys();

        services.AddValidator<CreateCalculationRequest, CreateCalculationValidator>();
        services.AddValidator<AddTermRequest, AddTermValidator>();

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

    public static WebApplication MapCalculations(this WebApplication app)
    {
        var calculations = app.MapGroup("/calculations").WithTags("Calculations");
        calculations.MapCreateCalculation();
        calculations.MapAddTerm();
        calculations.MapFinalizeCalculation();
        calculations.MapGetCalculation();
        calculations.MapListCalculations();
        calculations.MapCancelCalculation();
        calculations.MapCallbackRetry<Calculation>("RetryCalculationCallback", Problems.NotFound, Problems.WrongState, "calculation");
        app.MapGetStatus();
        return app;
    }
}
