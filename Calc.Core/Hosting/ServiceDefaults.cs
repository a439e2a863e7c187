using System.Text.Json;
using System.Text.Json.Serialization;
using Calc.Core.Discovery;
using FluentValidation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Calc.Core.Hosting;

/// <summary>
/// What every Calc service sets up the same way: JSON conventions, RFC 9457 problem details (including for bind
/// errors), request ids in logs, OpenTelemetry traces and metrics (<see cref="Telemetry"/>), health endpoints, OpenAPI
/// and Swagger UI.
/// </summary>
public static class ServiceDefaults
{
    /// <summary>Health check tag for readiness (the service can do its work: database reachable, ...).</summary>
    public const string ReadyTag = "ready";

    /// <summary>The JSON conventions of the public API: camelCase names, enums as snake_case strings.</summary>
    public static void ConfigureJson(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
    }

    /// <summary>
    /// Registers the shared defaults for a service named <paramref name="serviceName"/>: <see cref="ServiceIdentity"/>,
    /// JSON options, problem details, bind-error handling, health checks, OpenAPI, and console logging with scopes
    /// (JSON lines unless <c>Logging:Console:FormatterName</c> says otherwise).
    /// </summary>
    public static IHostApplicationBuilder AddServiceDefaults(this IHostApplicationBuilder builder, string serviceName)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var identity = new ServiceIdentity(serviceName, builder.Configuration["Service:InstanceId"]);
        builder.Services.AddSingleton(identity);
        builder.Services.AddSingleton(TimeProvider.System);

        builder.Logging.ClearProviders();
        if (string.IsNullOrEmpty(builder.Configuration["Logging:Console:FormatterName"]))
        {
            builder.Logging.AddJsonConsole(o =>
            {
                o.IncludeScopes = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                o.UseUtcTimestamp = true;
            });
        }
        else
        {
            builder.Logging.AddConsole();
        }

        builder.AddTelemetry(identity);

        builder.Services.ConfigureHttpJsonOptions(o => ConfigureJson(o.SerializerOptions));
        // Bind errors throw (instead of an empty 400) so BadRequestExceptionHandler can name the field.
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = ctx =>
        {
            ctx.ProblemDetails.Instance ??= ctx.HttpContext.Request.Path;
            ctx.ProblemDetails.Extensions["requestId"] = ctx.HttpContext.TraceIdentifier;
        });
        builder.Services.AddExceptionHandler<BadRequestExceptionHandler>();
        // Field errors name fields as clients write them in JSON: "init", not "Init".
        ValidatorOptions.Global.PropertyNameResolver = (_, member, _) => member is null ? null : JsonNamingPolicy.CamelCase.ConvertName(member.Name);
        ValidatorOptions.Global.DisplayNameResolver = (_, member, _) => member is null ? null : JsonNamingPolicy.CamelCase.ConvertName(member.Name);

        builder.Services.AddHealthChecks().AddCheck("self", () => HealthCheckResult.Healthy(), tags: ["live"]);
        builder.Services.AddOpenApi();
        builder.AddGatewayRegistration();
        return builder;
    }

    /// <summary>
    /// Adds the shared middleware (request ids, exception handling to problem details, status code pages) and maps
    /// <c>/metrics</c> (Prometheus), <c>/health/live</c>, <c>/health/ready</c>, <c>/openapi/v1.json</c> and Swagger UI at <c>/swagger</c>.
    /// Call it first, before mapping the service's own endpoints.
    /// </summary>
    public static WebApplication UseServiceDefaults(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseMiddleware<RequestIdMiddleware>();
        app.UseLoadHeader();
        app.UseExceptionHandler();
        app.UseStatusCodePages();

        app.MapMetrics();
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = c => c.Tags.Contains("live") });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains(ReadyTag) });
        // A service of FastEndpoints slices serves its own document at the same URL (EndpointSlices.UseEndpointSlices).
        if (app.Services.GetService<EndpointSlices.SlicesDocument>() is null)
        {
            app.MapOpenApi();
            app.UseSwaggerUI(o =>
            {
                o.SwaggerEndpoint(EndpointSlices.DocumentPath, app.Services.GetRequiredService<ServiceIdentity>().ServiceName);
                o.RoutePrefix = "swagger";
            });
        }

        return app;
    }

    /// <summary>Adds options bound from a configuration section, validated with data annotations when the app starts.</summary>
    public static IServiceCollection AddValidatedOptions<TOptions>(this IServiceCollection services, string sectionName)
        where TOptions : class
    {
        services.AddOptions<TOptions>().BindConfiguration(sectionName).ValidateDataAnnotations().ValidateOnStart();
        return services;
    }

    /// <summary>Reads a configuration value that must be present, with a message naming the key.</summary>
    public static string GetRequired(this IConfiguration configuration, string key)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var value = configuration[key];
        return string.IsNullOrWhiteSpace(value)
            ? throw new InvalidOperationException($"Configuration value '{key}' is required.")
            : value;
    }
}
