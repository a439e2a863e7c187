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
        if (status is not null && !JobStore.ByName.ContainsKey(status))
        {
            errors["status"] = [$"'status' must be one of: {string.Join(", ", JobStore.ByName.Keys)}."];
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
        var items = await repository.QueryAsync(new DocumentQuery(status, offset, pageSize, Descending: true), cancellationToken);
        var total = await repository.CountAsync(status, cancellationToken);
        return TypedResults.Ok(new JobPage([.. items.Select(s => s.Document.ToResponse(includeDistribution: false))], page, pageSize, total));
    }
}
