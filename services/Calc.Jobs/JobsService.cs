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
        services.AddValidator<CreateBudgetJobRequest, CreateBudgetJobValidator>();
        services.AddValidator<CreateFetchJobRequest, CreateFetchJobValidator>();
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

    public static WebApplication MapJobs(this WebApplication app)
    {
        if (app.Services.GetRequiredService<ServiceRole>().ServesApi)
        {
            var jobs = app.MapGroup("/jobs").WithTags("Jobs");
            jobs.MapCreateBudgetJob();
            jobs.MapCreateBudgetJobsInBulk();
            jobs.MapCreateFetchJob();
            jobs.MapGetBatch();
            jobs.MapGetJob();
            jobs.MapListJobs();
            jobs.MapCancelJob();
            jobs.MapCallbackRetry<Job>("RetryJobCallback", Problems.NotFound, Problems.WrongState, "job");
        }

        app.MapGetStatus();
        return app;
    }
}
