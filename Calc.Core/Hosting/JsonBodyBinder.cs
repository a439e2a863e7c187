using System.Text.Json;
using FastEndpoints;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Calc.Core.Hosting;

/// <summary>
/// Binds a slice's request from its JSON body only (never from the query string or route, which FastEndpoints'
/// default binder would let override body fields), with the app's JSON options. A body it cannot read fails the same
/// way a minimal API's inferred body did, with the same <see cref="BadHttpRequestException"/>, so that
/// <see cref="BadRequestExceptionHandler"/> answers it: 400 naming the JSON field (<c>body</c> when there is none, or it
/// is not JSON at all), 415 for a body that is not JSON by its content type.
/// </summary>
/// <typeparam name="TRequest">The request type.</typeparam>
public sealed class JsonBodyBinder<TRequest> : IRequestBinder<TRequest> where TRequest : class
{
    private static readonly string Parameter = $"{typeof(TRequest).Name} request";

    /// <inheritdoc />
    public async ValueTask<TRequest> BindAsync(BinderContext ctx, CancellationToken ct)
    {
        var http = ctx.HttpContext;
        TRequest? request = null;
        if (http.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody ?? true)
        {
            if (!http.Request.HasJsonContentType())
            {
                throw JsonBodyMetadata.NotJson(http.Request);
            }

            try
            {
                var options = http.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
                request = await http.Request.ReadFromJsonAsync<TRequest>(options, ct);
            }
            catch (JsonException json)
            {
                throw new BadHttpRequestException($"Failed to read parameter \"{Parameter}\" from the request body as JSON.", json);
            }
        }

        return request ?? throw JsonBodyMetadata.NoBody();
    }

}

/// <summary>
/// A slice whose request is its JSON body: call <see cref="FromJsonBody"/> in <c>Configure()</c>. Requests are matched
/// as a minimal API with an inferred body matched them: one without a content type (and so without a body) reaches
/// the endpoint and gets the 400 naming <c>body</c>; a body of another content type gets routing's 415.
/// </summary>
/// <typeparam name="TRequest">The request type.</typeparam>
/// <typeparam name="TResponse">The response type (a <c>TypedResults</c> union).</typeparam>
public abstract class JsonBodyEndpoint<TRequest, TResponse> : Endpoint<TRequest, TResponse> where TRequest : class
{
    /// <summary>Binds the request from the JSON body only (<see cref="JsonBodyBinder{TRequest}"/>).</summary>
    protected void FromJsonBody()
    {
        RequestBinder(new JsonBodyBinder<TRequest>());
        Description(b => b.Accepts<TRequest>(isOptional: true, "application/json").WithMetadata(JsonBodyMetadata.Instance));
    }
}

/// <summary>
/// Marks a <see cref="JsonBodyEndpoint{TRequest, TResponse}"/> (see <see cref="MissingContentType"/>): a request to it
/// without a content type is a 400 naming <c>body</c> when it has no body, else a 415 problem, as the binder answers.
/// </summary>
internal sealed class JsonBodyMetadata
{
    public static readonly JsonBodyMetadata Instance = new();

    // The parameter's name alone, as the minimal API's message had it: BadRequestExceptionHandler then names "body".
    internal static BadHttpRequestException NoBody() =>
        new("Implicit body inferred for parameter \"request\" but no body was provided. Did you mean to use a Service instead?");

    internal static BadHttpRequestException NotJson(HttpRequest request) =>
        new($"Expected a supported JSON media type but got \"{request.ContentType}\".", StatusCodes.Status415UnsupportedMediaType);
}

/// <summary>
/// The content type a slice that reads its body itself takes a request without one to have (endpoint metadata: <c>.WithMetadata(new
/// AssumedContentType("text/csv"))</c>), as the minimal API it replaced did.
/// </summary>
/// <param name="ContentType">The content type.</param>
public sealed record AssumedContentType(string ContentType);

/// <summary>
/// FastEndpoints answers a request without a <c>Content-Type</c> to an endpoint that accepts a body with an empty 415,
/// before any binder runs; the minimal APIs these slices replaced let it through to their body reading. This middleware
/// (run after routing, before the endpoint) keeps their answers: see <see cref="JsonBodyMetadata"/> and
/// <see cref="AssumedContentType"/>.
/// </summary>
internal static class MissingContentType
{
    public static Task CheckAsync(HttpContext context, RequestDelegate next)
    {
        if (string.IsNullOrEmpty(context.Request.ContentType) && context.GetEndpoint()?.Metadata is { } metadata)
        {
            if (metadata.GetMetadata<JsonBodyMetadata>() is not null)
            {
                throw context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody ?? true
                    ? JsonBodyMetadata.NotJson(context.Request)
                    : JsonBodyMetadata.NoBody();
            }

            if (metadata.GetMetadata<AssumedContentType>() is { } assumed)
            {
                context.Request.ContentType = assumed.ContentType;
            }
        }

        return next(context);
    }
}
