using System.Text.Json.Serialization;
using Calc.Core.Callbacks;
using Calc.Core.Scheduling;

namespace Calc.Calculations.Contracts;

/// <summary>A calculation as the API shows it.</summary>
/// <param name="Id">The calculation's id.</param>
/// <param name="Type">What it computes.</param>
/// <param name="Status">Where it is in its life.</param>
/// <param name="Priority">normal or high.</param>
/// <param name="Result">The exact result once done: see <see cref="ExactNumberJsonConverter"/> for its JSON form.</param>
/// <param name="ResultDigits">Number of decimal digits of an integer result (of the numerator for a fraction).</param>
/// <param name="Error">Why it failed or timed out.</param>
/// <param name="Progress">0-100 while processing.</param>
/// <param name="TermCount">How many terms were added.</param>
/// <param name="TimeoutSeconds">How long processing may take before it is stopped.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="StartedAt">When processing started.</param>
/// <param name="FinishedAt">When it reached a final status.</param>
/// <param name="CallbackUrl">Where the result is posted when it is final, if given.</param>
/// <param name="Callback">The delivery of the result to <paramref name="CallbackUrl"/>: state, attempts, last answer (single reads only).</param>
/// <param name="RequestId">The id of the request that created it; callbacks carry it.</param>
public sealed record CalculationResponse(
    string Id,
    CalculationType Type,
    CalculationStatus Status,
    WorkPriority Priority,
    [property: JsonConverter(typeof(ExactNumberJsonConverter))] string? Result,
    int? ResultDigits,
    string? Error,
    int? Progress,
    int TermCount,
    int TimeoutSeconds,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    string? CallbackUrl,
    CallbackStatus? Callback = null,
    string? RequestId = null);

/// <summary>One page of calculations.</summary>
/// <param name="Items">The calculations on this page (results longer than a page item allows are left out: GET the calculation).</param>
/// <param name="Page">The page number, from 1.</param>
/// <param name="PageSize">Items per page.</param>
/// <param name="Total">How many calculations match the filter.</param>
public sealed record CalculationPage(IReadOnlyList<CalculationResponse> Items, int Page, int PageSize, long Total);
