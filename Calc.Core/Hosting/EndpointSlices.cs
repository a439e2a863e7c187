using System.Reflection;
using FastEndpoints;
using FastEndpoints.Swagger;
using FluentValidation.Results;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Calc.Core.Hosting;

/// <summary>
/// A service made of FastEndpoints slices (one endpoint class and its <see cref="Validator{TRequest}"/> per use case):
/// discovery in the service's assembly, its OpenAPI document at <c>/openapi/v1.json</c> (FastEndpoints.Swagger) with
/// Swagger UI at <c>/swagger</c>, and FastEndpoints' error answers written exactly as the rest of the service writes
/// them: a failed validator is the same RFC 9457 <c>ValidationProblem</c> (<c>errors</c> keyed by JSON field name,
/// <c>instance</c>, <c>requestId</c>, <c>traceId</c>) that <c>TypedResults.ValidationProblem</c> gives.
/// </summary>
public static class EndpointSlices
{
    /// <summary>Where the service's OpenAPI document is served (the URL every Calc service uses).</summary>
    public const string DocumentPath = "/openapi/v1.json";

    /// <summary>
    /// Registers FastEndpoints with the endpoints and validators of <paramref name="sliceAssembly"/> (those
    /// <paramref name="include"/> accepts, all when null), and the OpenAPI document.
    /// </summary>
    public static IHostApplicationBuilder AddEndpointSlices(this IHostApplicationBuilder builder, Assembly sliceAssembly, Func<Type, bool>? include = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(sliceAssembly);
        builder.Services.AddSingleton<SlicesDocument>();
        builder.Services.AddFastEndpoints(o =>
        {
            // Only the service's own slices: a test process hosting the app has other assemblies loaded.
            o.DisableAutoDiscovery = true;
            o.Assemblies = [sliceAssembly];
            // Per app (FastEndpoints' own endpoint filter is process-wide static configuration).
            o.Filter = include;
        });
        var serviceName = builder.Services.BuildServiceName();
        builder.Services.SwaggerDocument(o =>
        {
            o.ShortSchemaNames = true;
            o.AutoTagPathSegmentIndex = 0; // tags come from each endpoint's Description
            o.DocumentSettings = s =>
            {
                s.DocumentName = "v1";
                s.Title = serviceName;
                s.Version = "v1";
            };
        });
        return builder;
    }

    /// <summary>
    /// Maps the slices, the OpenAPI document and Swagger UI. Call it after <see cref="ServiceDefaults.UseServiceDefaults"/>.
    /// </summary>
    public static WebApplication UseEndpointSlices(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.Use(MissingContentType.CheckAsync);
        app.UseFastEndpoints(c =>
        {
            // No authentication here: the gateway is the public entry point; internal calls carry Internal:Key.
            c.Endpoints.Configurator = endpoint => endpoint.AllowAnonymous();
            c.Errors.ResponseBuilder = (failures, _, _) => ValidationProblemOf(failures);
            // The answers are IResults (TypedResults unions, the validation problem above): they write themselves,
            // through the app's IProblemDetailsService, so every problem body has the same shape.
            c.Serializer.ResponseSerializer = (response, body, contentType, _, cancellationToken) => body switch
            {
                null => Task.CompletedTask,
                IResult result => result.ExecuteAsync(response.HttpContext),
                _ => response.WriteAsJsonAsync(
                    body,
                    body.GetType(),
                    response.HttpContext.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions,
                    contentType,
                    cancellationToken),
            };
        });
        app.UseSwaggerGen(
            document => document.Path = "/openapi/{documentName}.json",
            ui =>
            {
                ui.Path = "/swagger";
                ui.DocumentPath = "/openapi/{documentName}.json";
            });
        return app;
    }

    /// <summary>The 400 of a failed validator, as <c>TypedResults.ValidationProblem</c> writes it elsewhere.</summary>
    internal static IResult ValidationProblemOf(IEnumerable<ValidationFailure> failures) =>
        TypedResults.ValidationProblem(failures
            .GroupBy(f => f.PropertyName, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(f => f.ErrorMessage).ToArray(), StringComparer.Ordinal));

    private static string BuildServiceName(this IServiceCollection services) =>
        services.LastOrDefault(s => s.ServiceType == typeof(ServiceIdentity))?.ImplementationInstance is ServiceIdentity identity
            ? identity.ServiceName
            : "service";

    /// <summary>Present when the app describes itself through FastEndpoints.Swagger (then the default document is not mapped).</summary>
    internal sealed class SlicesDocument;
}
