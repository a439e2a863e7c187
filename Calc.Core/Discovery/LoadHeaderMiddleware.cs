using Microsoft.AspNetCore.Http;

namespace Calc.Core.Discovery;

/// <summary>Adds <see cref="InstanceLoad.HeaderName"/> (<c>processing/capacity</c>) to every response, so the gateway learns the load on each call.</summary>
internal sealed class LoadHeaderMiddleware(RequestDelegate next, ILoadReporter reporter)
{
    public Task InvokeAsync(HttpContext context)
    {
        context.Response.OnStarting(static state =>
        {
            var (response, reporter) = ((HttpResponse, ILoadReporter))state;
            response.Headers[InstanceLoad.HeaderName] = reporter.Current().ToString();
            return Task.CompletedTask;
        }, (context.Response, reporter));
        return next(context);
    }
}
