using System.Text.Json.Serialization;
using Calc.Calculations.Contracts;
using Calc.Calculations.Domain;
using Calc.Core.Callbacks;
using Calc.Data;

namespace Calc.Calculations.Processing;

/// <summary>The body posted to a calculation's callback URL once it is final: its id, status, result and the request id.</summary>
/// <param name="Id">The calculation id.</param>
/// <param name="RequestId">The id of the request that created it.</param>
/// <param name="Type">What it computed.</param>
/// <param name="Status">done, failed, timed_out or cancelled.</param>
/// <param name="Result">The exact result when done (a JSON number when it is short, else a string).</param>
/// <param name="ResultDigits">Digits of the result.</param>
/// <param name="Error">Why it did not finish.</param>
/// <param name="FinishedAt">When it reached its final status.</param>
public sealed record CalculationCallback(
    string Id,
    string? RequestId,
    CalculationType Type,
    CalculationStatus Status,
    [property: JsonConverter(typeof(ExactNumberJsonConverter))] string? Result,
    int? ResultDigits,
    string? Error,
    DateTimeOffset? FinishedAt);

/// <summary>Builds a calculation's callback body from its stored state, at each delivery attempt.</summary>
internal sealed class CalculationCallbackSource(IDocumentRepository<Calculation> repository)
    : DocumentCallbackSource<Calculation, CalculationCallback>(repository)
{
    protected override CalculationCallback? FinalBody(Calculation c) =>
        c.IsFinal ? new CalculationCallback(c.Id, c.RequestId, c.Type, c.Status, c.Result, c.ResultDigits, c.Error, c.FinishedAt) : null;
}
