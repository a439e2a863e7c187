using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Calc.Core.Hosting;

/// <summary>
/// OpenTelemetry for every Calc app (the gateway, both services, the Jobs workers), set up by
/// <see cref="ServiceDefaults"/>: traces from ASP.NET Core, HttpClient, Npgsql and Calc's own sources (every
/// <c>Calc.*</c> <see cref="ActivitySource"/>), metrics from ASP.NET Core, Kestrel, HttpClient, the runtime and Calc's
/// own meters (every <c>Calc.*</c> <see cref="Meter"/>), served at <c>/metrics</c> in Prometheus' text format, and
/// exported over OTLP only when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set. Spans are recorded only then: with nowhere
/// to send them, recording them would cost every request CPU for nothing (measured: 10-60% of the server CPU per
/// calculation, bench/RESULTS.md). Without an exporter the trace context still passes through, unchanged, sampled flag
/// included: ASP.NET Core makes its request activity for the logs' trace ids, HttpClient and the gateway's fast lane
/// send the context on, and <see cref="StartFrom"/> continues a stored context as an unrecorded activity, so the logs of
/// work done later (a queue delivery, a callback) carry the trace id too. <c>OTEL_SDK_DISABLED=true</c> switches all of
/// it off (no <c>/metrics</c> either); the trace context still passes through, as without an exporter.
/// </summary>
public static class Telemetry
{
    /// <summary>The span attribute holding the request's <c>X-Request-Id</c>.</summary>
    public const string RequestIdTag = "calc.request_id";

    /// <summary>Where the Prometheus scrape endpoint is mapped.</summary>
    public const string MetricsPath = "/metrics";

    /// <summary>The prefix of every Calc activity source and meter (added to the SDK with a wildcard).</summary>
    public const string SourcePrefix = "Calc.";

    /// <summary>Callbacks: one span per delivery attempt, parented to the work that armed it.</summary>
    internal static readonly ActivitySource Callbacks = new("Calc.Callbacks");

    /// <summary>Discovery: an instance's heartbeats to the gateway's registry.</summary>
    internal static readonly ActivitySource Discovery = new("Calc.Discovery");

    private static readonly Meter CallbackMeter = new("Calc.Callbacks");

    /// <summary>Callback attempts by outcome (delivered, failed, refused, dead_lettered).</summary>
    internal static readonly Counter<long> CallbackAttempts = CallbackMeter.CreateCounter<long>("calc.callback.attempts", "{attempt}", "Callback delivery attempts by outcome.");

    /// <summary>Callbacks that ended dead-lettered.</summary>
    internal static readonly Counter<long> CallbackDeadLetters = CallbackMeter.CreateCounter<long>("calc.callback.dead_letters", "{callback}", "Callbacks dead-lettered (every attempt failed, or the receiver is refused).");

    /// <summary>Whether <c>OTEL_SDK_DISABLED</c> is <c>true</c> (the standard switch): then no SDK is set up.</summary>
    public static bool IsDisabled(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return string.Equals(configuration["OTEL_SDK_DISABLED"], "true", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The current activity's W3C <c>traceparent</c>, or null when there is none (to store with work done later).</summary>
    public static string? CurrentTraceParent() =>
        Activity.Current is { IdFormat: ActivityIdFormat.W3C } current ? current.Id : null;

    /// <summary>
    /// Starts <paramref name="name"/> on <paramref name="source"/> as a child of a stored <c>traceparent</c> (work picked
    /// up later or elsewhere: a queue delivery, an outbox entry), or as a root when it is missing or malformed. When
    /// nobody listens (no exporter), a stored context is still continued, by an activity that records nothing, so the
    /// work's logs and the calls it makes carry the trace; null then when there is no stored context.
    /// </summary>
    public static Activity? StartFrom(this ActivitySource source, string name, ActivityKind kind, string? traceParent, string? traceState = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        var parsed = traceParent is not null && ActivityContext.TryParse(traceParent, traceState, isRemote: true, out var context);
        var parent = parsed ? context : default;
        // Not under whatever happens to be current (e.g. the dispatcher's loop): the stored context is the parent.
        var previous = Activity.Current;
        Activity.Current = null;
        Activity? activity;
        if (source.HasListeners())
        {
            activity = source.StartActivity(name, kind, parent);
        }
        else if (parsed)
        {
            activity = new Activity(name).SetParentId(parent.TraceId, parent.SpanId, parent.TraceFlags);
            activity.TraceStateString = parent.TraceState;
            activity.IsAllDataRequested = false; // nothing records it: callers skip their tags
            activity.Start();
        }
        else
        {
            activity = null;
        }

        if (activity is null)
        {
            Activity.Current = previous;
        }

        return activity;
    }

    /// <summary>Marks <paramref name="activity"/> failed with <paramref name="description"/>.</summary>
    public static void Fail(this Activity? activity, string description) => activity?.SetStatus(ActivityStatusCode.Error, description);

    internal static void AddTelemetry(this IHostApplicationBuilder builder, ServiceIdentity identity)
    {
        // Every log line carries the trace and span ids next to the RequestId scope (JSON: in "Scopes").
        builder.Logging.Configure(o => o.ActivityTrackingOptions =
            ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);
        if (IsDisabled(builder.Configuration))
        {
            return;
        }

        builder.Services.AddHostedService<CoreMetrics>();
        var exported = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(identity.ServiceName, serviceInstanceId: identity.InstanceId));
        if (exported)
        {
            otel.WithTracing(tracing => tracing
                .AddSource(SourcePrefix + "*")
                .AddSource("Npgsql") // Npgsql's own ActivitySource: no extra package needed to see its commands
                .AddAspNetCoreInstrumentation(o => o.Filter = context => !IsPlumbing(context.Request.Path))
                .AddHttpClientInstrumentation());
        }

        otel.WithMetrics(metrics => metrics
                .AddMeter(SourcePrefix + "*")
                .AddMeter("Npgsql")
                .AddAspNetCoreInstrumentation()
                .AddMeter("Microsoft.AspNetCore.Server.Kestrel")
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter("System.Runtime")
                .AddPrometheusExporter());
        if (exported)
        {
            otel.UseOtlpExporter(); // the standard OTEL_EXPORTER_OTLP_* variables configure it
        }
    }

    internal static void MapMetrics(this WebApplication app)
    {
        if (!IsDisabled(app.Configuration))
        {
            app.MapPrometheusScrapingEndpoint(MetricsPath);
        }
    }

    // Scrapes and probes are not traced: they would drown the requests in the trace view.
    private static bool IsPlumbing(PathString path) =>
        path.StartsWithSegments(MetricsPath, StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments("/health", StringComparison.OrdinalIgnoreCase);
}
