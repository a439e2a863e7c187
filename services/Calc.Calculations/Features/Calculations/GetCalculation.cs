using Calc.Calculations.Contracts;
using Calc.Calculations.Domain;
using Calc.Calculations.Processing;
using Calc.Core.Callbacks;
using Calc.Data;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Calc.Calculations.Features.Calculations;

/// <summary>GET /calculations/{id}: status, progress while processing, the exact result once done, and its callback's delivery.</summary>
internal static class GetCalculation
{
    public static void MapGetCalculation(this RouteGroupBuilder group) =>
        group.MapGet("/{id}", HandleAsync)
            .WithName("GetCalculation")
            .WithSummary("Reads a calculation.");

    private static async Task<Results<Ok<CalculationResponse>, ProblemHttpResult>> HandleAsync(
        string id,
        IDocumentRepository<Calculation> repository,
        CalculationProcessor processor,
        CallbackOutbox callbacks,
        CancellationToken cancellationToken)
    {
        var stored = await repository.LoadAsync(id, cancellationToken);
        if (stored is null)
        {
            return Problems.NotFound(id);
        }

        var callback = stored.Document.CallbackUrl is null ? null : await callbacks.GetStatusAsync(id, cancellationToken);
        return TypedResults.Ok(stored.Document.ToResponse(processor.LocalProgress(id), callback: callback));
    }
}
