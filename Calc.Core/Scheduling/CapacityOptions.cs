using System.ComponentModel.DataAnnotations;

namespace Calc.Core.Scheduling;

/// <summary>How much work one service instance takes at once (configuration section <c>Capacity</c>).</summary>
public sealed class CapacityOptions : IValidatableObject
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "Capacity";

    /// <summary>Tasks processed at once by this instance, at most (<c>Capacity:Slots</c>).</summary>
    [Range(1, 100_000)]
    public int Slots { get; set; } = Math.Max(2, Environment.ProcessorCount * 2);

    /// <summary>How many of <see cref="Slots"/> only high-priority tasks may use (<c>Capacity:ReservedHigh</c>).</summary>
    [Range(0, 100_000)]
    public int ReservedHigh { get; set; } = 1;

    /// <summary>The Retry-After, in seconds, given with a refusal for lack of capacity (<c>Capacity:RetryAfterSeconds</c>).</summary>
    [Range(1, 3600)]
    public int RetryAfterSeconds { get; set; } = 1;

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (ReservedHigh >= Slots)
        {
            yield return new ValidationResult(
                $"Capacity:ReservedHigh ({ReservedHigh}) must be less than Capacity:Slots ({Slots}), or normal tasks could never run.",
                [nameof(ReservedHigh)]);
        }
    }
}
