using Calc.Calculations.Contracts;
using Calc.Calculations.Domain;
using Calc.Core.Contracts;
using Calc.Data;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Calc.Calculations.Features.Calculations;

/// <summary>GET /calculations?status=done&amp;page=1&amp;pageSize=20: newest first, optionally one status only.</summary>
internal static class ListCalculations
{
    public static void MapListCalculations(this RouteGroupBuilder group) =>
        group.MapGet("/", HandleAsync)
            .WithName("ListCalculations")
            .WithSummary("Lists calculations, newest first, with an optional status filter and paging.");

    private static async Task<Results<Ok<CalculationPage>, ValidationProblem>> HandleAsync(
        IDocumentRepository<Calculation> repository,
        IOptions<CalculationsOptions> options,
        CancellationToken cancellationToken,
        string? status = null,
        int page = 1,
        int pageSize = 20)
    {
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
        var items = await repository.QueryAsync(new DocumentQuery(indexValue, (int)offset, pageSize, Descending: true), cancellationToken);
        var total = await repository.CountAsync(indexValue, cancellationToken);
        return TypedResults.Ok(new CalculationPage(
            [.. items.Select(s => s.Document.ToResponse(includeLongResult: false))], page, pageSize, total));
    }
}
