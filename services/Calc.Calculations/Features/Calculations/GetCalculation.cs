using Calc.Calculations.Domain;
using Calc.Calculations.Processing;
using Calc.Contracts;
using Calc.Data;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Calc.Calculations.Features.Calculations;

/// <summary>GET /calculations/{id}: status, progress while processing, and the exact result once done.</summary>
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
        CancellationToken cancellationToken)
    {
        var stored = await repository.LoadAsync(id, cancellationToken);
        return stored is null
            ? Problems.NotFound(id)
            : TypedResults.Ok(stored.Document.ToResponse(processor.LocalProgress(id)));
    }
}
