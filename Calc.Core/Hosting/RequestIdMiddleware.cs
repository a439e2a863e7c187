using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Calc.Core.Hosting;

/// <summary>
/// Gives every request one id that follows it through the system (<see cref="RequestIds"/>) and puts it in every log
/// line's scope as <c>RequestId</c>.
/// </summary>
internal sealed class RequestIdMiddleware(RequestDelegate next, ILogger<RequestIdMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var requestId = RequestIds.Assign(context);

        // A message-template scope: structured (RequestId) in JSON logs, and readable in plain-text ones.
        using (logger.BeginScope("RequestId:{RequestId}", requestId))
        {
            await next(context);
        }
    }
}
