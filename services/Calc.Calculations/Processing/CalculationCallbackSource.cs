using System.Text.Json;
using System.Text.Json.Serialization;
using Calc.Calculations.Domain;
using Calc.Callbacks;
using Calc.Contracts;
using Calc.Data;
using Calc.Hosting;

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
internal sealed class CalculationCallbackSource(IDocumentRepository<Calculation> repository) : ICallbackSource
{
    private static readonly JsonSerializerOptions Json = CreateJson();

    public async Task<CallbackContent> GetContentAsync(string workId, CancellationToken cancellationToken)
    {
        var stored = await repository.LoadAsync(workId, cancellationToken);
        if (stored is null)
        {
            return CallbackContent.Gone;
        }

        var c = stored.Document;
        if (!c.IsFinal)
        {
            return CallbackContent.NotFinal;
        }

        var body = new CalculationCallback(c.Id, c.RequestId, c.Type, c.Status, c.Result, c.ResultDigits, c.Error, c.FinishedAt);
        return CallbackContent.Final(JsonSerializer.SerializeToUtf8Bytes(body, Json));
    }

    private static JsonSerializerOptions CreateJson()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        ServiceDefaults.ConfigureJson(options);
        return options;
    }
}
