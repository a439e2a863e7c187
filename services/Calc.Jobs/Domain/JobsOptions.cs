using System.ComponentModel.DataAnnotations;

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

    /// <summary>An artificial pause before each job is computed, for demonstrations and crash-recovery tests (0 = none).</summary>
    [Range(0, 3_600_000)]
    public int ProcessingDelayMilliseconds { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
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
