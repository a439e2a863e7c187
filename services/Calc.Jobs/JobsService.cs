using Calc.Core.Callbacks;
using Calc.Core.Discovery;
using Calc.Core.Hosting;
using Calc.Core.Idempotency;
using Calc.Core.Outbound;
using Calc.Core.Scheduling;
using Calc.Core.Validation;
using Calc.Data;
using Calc.Data.Marten;
using Calc.Data.Mongo;
using Calc.Data.Redis;
using Calc.Data.Sqlite;
using Calc.Jobs.Domain;
using Calc.Jobs.Features.Jobs;
using Calc.Jobs.Features.Status;
using Calc.Jobs.Processing;
using Calc.Jobs.Queueing;
using Microsoft.Extensions.Options;

namespace Calc.Jobs;

/// <summary>The Jobs service's table of contents: what it registers and which endpoints it maps, per role.</summary>
internal static class JobsService
{
    public static IHostApplicationBuilder AddJobs(this IHostApplicationBuilder builder)
    {
        var role = ServiceRole.Parse(builder.Configuration["Role"]);
        var services = builder.Services;
        // A worker-only process serves /status alone: the slices under Features/Jobs are the API's.
        builder.AddEndpointSlices(typeof(JobsService).Assembly, type => role.ServesApi || type.Namespace != typeof(GetJob).Namespace);
        services.AddSingleton(role);
        services.AddValidatedOptions<JobsOptions>(JobsOptions.SectionName);
        services.AddValidatedOptions<CapacityOptions>(CapacityOptions.SectionName);

        // Database:Provider picks one of these at start: redis, marten (alias postgres) or sqlite.
        services.AddDocumentStore(builder.Configuration, providers => providers.AddRedis().AddMongo().AddMarten().AddSqlite());
        services.AddDocumentCollection(JobStore.Collection);
        services.AddDocumentCollection(BatchStore.Collection);
        services.AddJobQueue(builder.Configuration);
        services.AddHealthChecks().AddDocumentStoreCheck().AddJobQueueCheck(ServiceDefaults.ReadyTag);

        // Callbacks are posted by the processes that run workers; an API-only process registers and re-arms them.
        services.AddCallbacks<JobCallbackSource>(dispatch: role.RunsWorkers);
        services.AddSingleton<JobSubmitter>();
        services.AddIdempotencyKeys();

        services.AddSingleton<WorkScheduler>();
        services.AddLoadReporter<WorkSchedulerLoadReporter>();
        if (!Telemetry.IsDisabled(builder.Configuration))
        {
            services.AddHostedService<JobsMetrics>();
        }

        if (role.RunsWorkers)
        {
            services.AddSingleton<JobProcessor>();
            services.AddSingleton<ProviderFetcher>();
            services.AddHttpClient(ProviderFetcher.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
                .UseOutboundAddressPolicy(provider => provider.GetRequiredService<IOptions<JobsOptions>>().Value.CreateFetchAddressPolicy());
            services.AddHostedService<JobWorker>();
            if (string.Equals(builder.Configuration["Queue:Provider"] ?? QueueOptions.InProcess, QueueOptions.InProcess, StringComparison.OrdinalIgnoreCase))
            {
                services.AddHostedService<InProcessQueueRecovery>();
            }
        }

        return builder;
    }

    /// <summary>
    /// Maps the service's endpoints: one FastEndpoints slice per use case under <c>Features/</c>, found by scanning
    /// this assembly; a worker-only process maps <c>/status</c> alone. The README's route table lists them (a test
    /// holds it to what the app maps).
    /// </summary>
    public static WebApplication MapJobs(this WebApplication app)
    {
        app.UseEndpointSlices();
        return app;
    }
}
