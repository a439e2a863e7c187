using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Calc.Gateway.Limits;

/// <summary>
/// The rate limit for routed requests: a fixed window of <c>RateLimiting:PermitLimit</c> requests per
/// <c>RateLimiting:WindowSeconds</c> per client IP address (the connection's, since the gateway is the public edge),
/// refused at once with 429 problem details and Retry-After. <c>PermitLimit</c> 0 turns it off. Called by the
/// forwarding path itself (it runs before any middleware), so the limiter is used directly.
/// </summary>
internal sealed class ClientRateLimiting : IDisposable
{
    private readonly PartitionedRateLimiter<string>? _limiter;
    private readonly TimeSpan _window;

    public ClientRateLimiting(IOptions<RateLimitingOptions> options)
    {
        var settings = options.Value;
        _window = TimeSpan.FromSeconds(settings.WindowSeconds);
        if (settings.PermitLimit > 0)
        {
            var limiterOptions = new FixedWindowRateLimiterOptions { PermitLimit = settings.PermitLimit, Window = _window, QueueLimit = 0 };
            _limiter = PartitionedRateLimiter.Create<string, string>(clientIp => RateLimitPartition.GetFixedWindowLimiter(clientIp, _ => limiterOptions));
        }
    }

    /// <summary>
    /// Takes a permit for the request, or answers it with 429 and returns false. The lease (null when limiting is off)
    /// is the caller's to dispose when the request is done.
    /// </summary>
    public async ValueTask<(bool Admitted, RateLimitLease? Lease)> AdmitAsync(HttpContext context, IProblemDetailsService problems)
    {
        if (_limiter is null)
        {
            return (true, null);
        }

        var lease = _limiter.AttemptAcquire(context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
        if (lease.IsAcquired)
        {
            return (true, lease);
        }

        var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : _window;
        lease.Dispose();
        context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        context.Response.Headers[HeaderNames.RetryAfter] = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = { Status = StatusCodes.Status429TooManyRequests, Detail = "Too many requests from this client; retry later." },
        });
        return (false, null);
    }

    /// <summary>
    /// Takes a permit for a request from <paramref name="clientIp"/> without answering it (the fast lane: a refused
    /// request goes to the full path, which answers 429). The lease is null when limiting is off.
    /// </summary>
    public bool TryAcquire(string clientIp, out RateLimitLease? lease)
    {
        if (_limiter is null)
        {
            lease = null;
            return true;
        }

        var acquired = _limiter.AttemptAcquire(clientIp);
        if (acquired.IsAcquired)
        {
            lease = acquired;
            return true;
        }

        acquired.Dispose();
        lease = null;
        return false;
    }

    public void Dispose() => _limiter?.Dispose();
}
