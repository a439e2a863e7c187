using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Net.Http.Headers;

namespace Calc.Gateway.Limits;

/// <summary>
/// The <c>clients</c> rate-limiting policy for routed requests: a fixed window of <c>RateLimiting:PermitLimit</c>
/// requests per <c>RateLimiting:WindowSeconds</c> per client IP address (the connection's, since the gateway is the
/// public edge), refused at once with 429 problem details and Retry-After. <c>PermitLimit</c> 0 turns it off.
/// </summary>
internal static class ClientRateLimiting
{
    public const string Policy = "clients";

    public static bool IsEnabled(IConfiguration configuration) =>
        (configuration.GetSection(RateLimitingOptions.SectionName).Get<RateLimitingOptions>() ?? new RateLimitingOptions()).PermitLimit > 0;

    public static IServiceCollection AddClientRateLimiting(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection(RateLimitingOptions.SectionName).Get<RateLimitingOptions>() ?? new RateLimitingOptions();
        var window = TimeSpan.FromSeconds(options.WindowSeconds);
        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.AddPolicy(Policy, context => options.PermitLimit == 0
                ? RateLimitPartition.GetNoLimiter("all")
                : RateLimitPartition.GetFixedWindowLimiter(
                    context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                    _ => new FixedWindowRateLimiterOptions { PermitLimit = options.PermitLimit, Window = window, QueueLimit = 0 }));
            limiter.OnRejected = async (context, cancellationToken) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : window;
                var http = context.HttpContext;
                http.Response.Headers[HeaderNames.RetryAfter] = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = http,
                    ProblemDetails = { Status = StatusCodes.Status429TooManyRequests, Detail = "Too many requests from this client; retry later." },
                });
            };
        });
        return services;
    }
}
