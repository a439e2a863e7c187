using Calc.Calculations.Contracts;
using Calc.Calculations.Domain;
using Calc.Calculations.Processing;
using Calc.Core.Callbacks;
using Calc.Data;
using FastEndpoints;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Calc.Calculations.Features.Calculations;

/// <summary>GET /calculations/{id}: status, progress while processing, the exact result once done, and its callback's delivery.</summary>
internal sealed class GetCalculation(IDocumentRepository<Calculation> repository, CalculationProcessor processor, CallbackOutbox callbacks)
    : EndpointWithoutRequest<Results<Ok<CalculationResponse>, ProblemHttpResult>>
{
    public override void Configure()
    {
        Get("/calculations/{id}");
        Description(b => b.WithName("GetCalculation").WithTags("Calculations").WithSummary("Reads a calculation."));
    }

    public override async Task<Results<Ok<CalculationResponse>, ProblemHttpResult>> ExecuteAsync(CancellationToken ct)
    {
        var id = Route<string>("id")!;
        var stored = await repository.LoadAsync(id, ct);
        if (stored is null)
        {
            return Problems.NotFound(id);
        }

        var callback = stored.Document.CallbackUrl is null ? null : await callbacks.GetStatusAsync(id, ct);
        return TypedResults.Ok(stored.Document.ToResponse(processor.LocalProgress(id), callback: callback));
    }
}
