using Calc.Core.Hosting;
using Calc.Gateway.Limits;
using Microsoft.Extensions.Options;

namespace Calc.Gateway.Forwarding;

/// <summary>
/// The gateway's hot path, first in its pipeline: a request under a route's prefix goes straight to the
/// <see cref="Forwarder"/>, past the endpoint routing, exception handler, status-code pages and Swagger UI that the
/// gateway's own endpoints (<c>/status</c>, <c>/internal/rpc</c>, health, OpenAPI) go through; each of those costs
/// every forwarded request something and does nothing for it. What they would do for a forwarded request is done
/// here: the request id (<see cref="RequestIds"/>), the client rate limit, and a problem instead of a bare 500 for a
/// failure of the gateway's own.
/// </summary>
internal static partial class RouteForwarding
{
    public static WebApplication UseRouteForwarding(this WebApplication app)
    {
        var routes = app.Services.GetRequiredService<IOptions<List<GatewayRoute>>>().Value
            .Select(route => (Prefix: new PathString(route.Prefix), route.Service))
            .ToArray();
        var forwarder = app.Services.GetRequiredService<Forwarder>();
        var rateLimiting = app.Services.GetRequiredService<ClientRateLimiting>();
        var problems = app.Services.GetRequiredService<IProblemDetailsService>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(RouteForwarding).FullName!);

        app.Use(next => context =>
        {
            foreach (var (prefix, service) in routes)
            {
                // "/calculations" matches /calculations and /calculations/..., not /calculationsX.
                if (context.Request.Path.StartsWithSegments(prefix, StringComparison.OrdinalIgnoreCase))
                {
                    return ForwardAsync(context, service);
                }
            }

            return next(context);
        });
        return app;

        async Task ForwardAsync(HttpContext context, string service)
        {
            RequestIds.Assign(context);
            var (admitted, lease) = await rateLimiting.AdmitAsync(context, problems);
            if (!admitted)
            {
                return;
            }

            try
            {
                await forwarder.ForwardAsync(context, service);
            }
            catch (BadHttpRequestException exception)
            {
                // The client's request itself was bad, e.g. a body over Limits:MaxRequestBodyBytes (413).
                await FailAsync(context, exception.StatusCode, exception.Message);
            }
            catch (Exception exception) when (!context.RequestAborted.IsCancellationRequested)
            {
                LogUnexpected(logger, exception, context.Request.Method, context.Request.Path, context.TraceIdentifier);
                await FailAsync(context, StatusCodes.Status500InternalServerError, "The gateway failed to forward the request.");
            }
            catch (OperationCanceledException)
            {
                // The client went away: nobody to answer.
            }
            finally
            {
                lease?.Dispose();
            }
        }

        async Task FailAsync(HttpContext context, int status, string detail)
        {
            if (context.Response.HasStarted)
            {
                context.Abort();
                return;
            }

            context.Response.Clear();
            context.Response.StatusCode = status;
            context.Response.Headers[RequestIds.HeaderName] = context.TraceIdentifier;
            await problems.WriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = { Status = status, Detail = detail } });
        }
    }

    [LoggerMessage(LogLevel.Error, "Forwarding {Method} {Path} failed in the gateway (request {RequestId}).")]
    private static partial void LogUnexpected(ILogger logger, Exception exception, string method, string path, string requestId);
}
