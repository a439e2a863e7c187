using System.ComponentModel.DataAnnotations;

namespace Calc.Core.Idempotency;

/// <summary>How <c>Idempotency-Key</c> headers are accepted and kept (configuration section <c>Idempotency</c>).</summary>
public sealed class IdempotencyOptions : IValidatableObject
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "Idempotency";

    /// <summary>
    /// How long a key is remembered after the request that first used it (<c>Idempotency:KeyLifetime</c>, default 24 h).
    /// Within it the same key returns the same resource; after it the key is free again and makes a new one.
    /// </summary>
    public TimeSpan KeyLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Longest key accepted, in characters (<c>Idempotency:MaxKeyLength</c>, default 255).</summary>
    [Range(1, 8192)]
    public int MaxKeyLength { get; set; } = 255;

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (KeyLifetime <= TimeSpan.Zero)
        {
            yield return new ValidationResult("Idempotency:KeyLifetime must be positive.", [nameof(KeyLifetime)]);
        }
    }
}
