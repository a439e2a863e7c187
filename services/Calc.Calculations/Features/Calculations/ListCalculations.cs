using Calc.Calculations.Contracts;
using Calc.Calculations.Domain;
using Calc.Core.Contracts;
using Calc.Core.Hosting;
using Calc.Data;
using FastEndpoints;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Calc.Calculations.Features.Calculations;

/// <summary>GET /calculations?status=done&amp;page=1&amp;pageSize=20: newest first, optionally one status only.</summary>
internal sealed class ListCalculations(IDocumentRepository<Calculation> repository, IOptions<CalculationsOptions> options)
    : EndpointWithoutRequest<Results<Ok<CalculationPage>, ValidationProblem>>
{
    public override void Configure()
    {
        Get("/calculations");
        Description(b => b.WithName("ListCalculations").WithTags("Calculations")
            .WithSummary("Lists calculations, newest first, with an optional status filter and paging."));
    }

    public override async Task<Results<Ok<CalculationPage>, ValidationProblem>> ExecuteAsync(CancellationToken ct)
    {
        var status = QueryParameters.Text(HttpContext.Request, "status");
        var page = QueryParameters.Number(HttpContext.Request, "page", 1);
        var pageSize = QueryParameters.Number(HttpContext.Request, "pageSize", 20);
        var errors = new Dictionary<string, string[]>();
        CalculationStatus filter = default;
        if (status is not null && !WireNames<CalculationStatus>.TryParse(status, out filter))
        {
            errors["status"] = [$"'status' must be one of: {string.Join(", ", WireNames<CalculationStatus>.All)}."];
        }

        var limits = options.Value;
        if (page < 1 || page > limits.MaxPage)
        {
            errors["page"] = [$"'page' must be between 1 and {limits.MaxPage} (Calculations:MaxPage)."];
        }

        if (pageSize < 1 || pageSize > limits.MaxPageSize)
        {
            errors["pageSize"] = [$"'pageSize' must be between 1 and {limits.MaxPageSize} (Calculations:MaxPageSize)."];
        }

        // The configured maxima allow offsets past int.MaxValue; the repository takes an int.
        var offset = (long)(page - 1) * pageSize;
        if (errors.Count == 0 && offset > int.MaxValue)
        {
            errors["page"] = [$"'page' {page} at pageSize {pageSize} skips more than {int.MaxValue} items."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var indexValue = status is null ? null : WireNames<CalculationStatus>.Of(filter); // "DONE" finds "done"
        var items = await repository.QueryAsync(new DocumentQuery(indexValue, (int)offset, pageSize, Descending: true), ct);
        var total = await repository.CountAsync(indexValue, ct);
        return TypedResults.Ok(new CalculationPage(
            [.. items.Select(s => s.Document.ToResponse(includeLongResult: false))], page, pageSize, total));
    }
}
