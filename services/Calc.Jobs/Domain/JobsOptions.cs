using System.ComponentModel.DataAnnotations;
using Calc.Core.Outbound;

namespace Calc.Jobs.Domain;

/// <summary>Limits and timings of the Jobs service (configuration section <c>Jobs</c>).</summary>
internal sealed class JobsOptions : IValidatableObject
{
    public const string SectionName = "Jobs";

    /// <summary>The queue jobs travel through (RabbitMQ queue name; its retry and parking queues derive from it).</summary>
    [Required]
    [RegularExpression("^[A-Za-z0-9._-]{1,100}$")]
    public string QueueName { get; set; } = "calc.jobs";

    /// <summary>Timeout of a job that does not give one; it counts from the job's first start.</summary>
    [Range(1, 86_400)]
    public int DefaultTimeoutSeconds { get; set; } = 60;

    /// <summary>Largest timeout a client may ask for.</summary>
    [Range(1, 86_400)]
    public int MaxTimeoutSeconds { get; set; } = 3600;

    /// <summary>Largest <c>daysOnline</c> of a budget job.</summary>
    [Range(1, 36_500)]
    public int MaxDaysOnline { get; set; } = 3650;

    /// <summary>
    /// How long one day online lasts: a job and its result expire <c>daysOnline × DayLength</c> after creation.
    /// One day in production; tests and demos shorten it to watch expiry happen.
    /// </summary>
    public TimeSpan DayLength { get; set; } = TimeSpan.FromDays(1);

    /// <summary>Jobs waiting in the queue at most; beyond it a new job gets 503 with Retry-After (no unbounded queue).</summary>
    [Range(1, 10_000_000)]
    public int MaxQueued { get; set; } = 10_000;

    /// <summary>Of <see cref="MaxQueued"/>, places only high-priority jobs may take.</summary>
    [Range(0, 10_000_000)]
    public int ReservedHighQueued { get; set; } = 100;

    /// <summary>Data rows one bulk upload may hold.</summary>
    [Range(1, 1_000_000)]
    public int MaxBulkRows { get; set; } = 10_000;

    /// <summary>Largest bulk upload body, in bytes.</summary>
    [Range(1, 1_000_000_000)]
    public int MaxBulkBytes { get; set; } = 10_000_000;

    /// <summary>Largest page <c>GET /jobs</c> may return (<c>pageSize</c>).</summary>
    [Range(1, 1000)] // the document repository returns at most 1,000 per query
    public int MaxPageSize { get; set; } = 100;

    /// <summary>Largest page number <c>GET /jobs</c> may ask for (<c>page</c>): bounds how deep an offset a query may skip.</summary>
    [Range(1, 10_000_000)]
    public int MaxPage { get; set; } = 1_000_000;

    /// <summary>An artificial pause before each job is computed, for demonstrations and crash-recovery tests (0 = none).</summary>
    [Range(0, 3_600_000)]
    public int ProcessingDelayMilliseconds { get; set; }

    /// <summary>
    /// The providers fetch jobs may name (<c>Jobs:Providers:&lt;name&gt;</c> = an http(s) URL). A client names a
    /// provider, never a URL: the service only ever fetches from these.
    /// </summary>
    public Dictionary<string, string> Providers { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Networks provider calls may connect to although they are inside the network the service runs in
    /// (<c>Jobs:FetchAllowedNetworks:0</c>, ...), in CIDR form, e.g. <c>10.20.0.0/16</c>. Empty (the default): every
    /// loopback, link-local, private, unique-local and other internal address is refused, as for callbacks. A key of its
    /// own, so that opening the network of an internal provider does not open it to every client's callbackUrl.
    /// </summary>
    public IList<string> FetchAllowedNetworks { get; } = [];

    /// <summary>The address policy of provider calls: <see cref="FetchAllowedNetworks"/> opened.</summary>
    public OutboundAddressPolicy CreateFetchAddressPolicy() => OutboundAddressPolicy.FromConfiguration(FetchAllowedNetworks, "Jobs:FetchAllowedNetworks");

    /// <summary>Provider calls per fetch job before it fails (each after a backoff with jitter).</summary>
    [Range(1, 100)]
    public int FetchMaxAttempts { get; set; } = 5;

    /// <summary>How long one provider call may take.</summary>
    public TimeSpan FetchAttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Delay after the first failed provider call; it doubles with each further failure (then jitter).</summary>
    public TimeSpan FetchRetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The longest delay between two provider calls.</summary>
    public TimeSpan FetchRetryMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Largest provider answer kept, in bytes; a larger one fails the job.</summary>
    [Range(1, 100_000_000)]
    public int FetchMaxBytes { get; set; } = 1_000_000;

    /// <summary>How long a fetch job and its data are kept.</summary>
    public TimeSpan FetchResultLifetime { get; set; } = TimeSpan.FromDays(1);

    /// <summary>How often the job counts by status and the queue's depth are read for <c>/metrics</c> (they are database and broker queries).</summary>
    public TimeSpan MetricsSampleInterval { get; set; } = TimeSpan.FromSeconds(5);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (MetricsSampleInterval <= TimeSpan.Zero)
        {
            yield return new ValidationResult("Jobs:MetricsSampleInterval must be positive.", [nameof(MetricsSampleInterval)]);
        }

        foreach (var (name, url) in Providers)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                yield return new ValidationResult($"Jobs:Providers:{name} must be an absolute http or https URL, not '{url}'.", [nameof(Providers)]);
            }
        }

        foreach (var network in FetchAllowedNetworks)
        {
            if (!OutboundAddressPolicy.TryParseNetwork(network, out _))
            {
                yield return new ValidationResult($"Jobs:FetchAllowedNetworks holds '{network}', which is not a network in CIDR form (e.g. 10.1.0.0/16, ::1/128).", [nameof(FetchAllowedNetworks)]);
            }
        }

        if (FetchAttemptTimeout <= TimeSpan.Zero || FetchRetryBaseDelay <= TimeSpan.Zero || FetchRetryMaxDelay < FetchRetryBaseDelay)
        {
            yield return new ValidationResult(
                "Jobs:FetchAttemptTimeout and Jobs:FetchRetryBaseDelay must be positive, and Jobs:FetchRetryMaxDelay at least Jobs:FetchRetryBaseDelay.",
                [nameof(FetchAttemptTimeout)]);
        }

        if (FetchResultLifetime <= TimeSpan.Zero)
        {
            yield return new ValidationResult("Jobs:FetchResultLifetime must be positive.", [nameof(FetchResultLifetime)]);
        }

        if (DayLength <= TimeSpan.Zero)
        {
            yield return new ValidationResult("Jobs:DayLength must be positive.", [nameof(DayLength)]);
        }

        if (ReservedHighQueued >= MaxQueued)
        {
            yield return new ValidationResult("Jobs:ReservedHighQueued must be less than Jobs:MaxQueued.", [nameof(ReservedHighQueued)]);
        }

        if (DefaultTimeoutSeconds > MaxTimeoutSeconds)
        {
            yield return new ValidationResult("Jobs:DefaultTimeoutSeconds must be at most Jobs:MaxTimeoutSeconds.", [nameof(DefaultTimeoutSeconds)]);
        }
    }
}
