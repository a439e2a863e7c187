using Calc.Contracts;
using Calc.Data;
using Calc.Jobs.Domain;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Calc.Jobs.Features.Jobs;

/// <summary>GET /jobs?status=done&amp;page=1&amp;pageSize=20: newest first, optionally one status only, without distributions.</summary>
internal static class ListJobs
{
    public const int MaxPageSize = 100;

    public static void MapListJobs(this RouteGroupBuilder group) =>
        group.MapGet("/", HandleAsync)
            .WithName("ListJobs")
            .WithSummary("Lists jobs, newest first, with an optional status filter and paging.");

    private static async Task<Results<Ok<JobPage>, ValidationProblem>> HandleAsync(
        IDocumentRepository<Job> repository,
        CancellationToken cancellationToken,
        string? status = null,
        int page = 1,
        int pageSize = 20)
    {
        var errors = new Dictionary<string, string[]>();
        JobStatus filter = default;
        if (status is not null && !WireNames<JobStatus>.TryParse(status, out filter))
        {
            errors["status"] = [$"'status' must be one of: {string.Join(", ", WireNames<JobStatus>.All)}."];
        }

        if (page is < 1 or > 1_000_000)
        {
            errors["page"] = ["'page' must be between 1 and 1000000."];
        }

        if (pageSize is < 1 or > MaxPageSize)
        {
            errors["pageSize"] = [$"'pageSize' must be between 1 and {MaxPageSize}."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var offset = (int)Math.Min((long)(page - 1) * pageSize, int.MaxValue);
        var indexValue = status is null ? null : WireNames<JobStatus>.Of(filter); // "DONE" finds "done"
        var items = await repository.QueryAsync(new DocumentQuery(indexValue, offset, pageSize, Descending: true), cancellationToken);
        var total = await repository.CountAsync(indexValue, cancellationToken);
        return TypedResults.Ok(new JobPage([.. items.Select(s => s.Document.ToResponse(includeResult: false))], page, pageSize, total));
    }
}
