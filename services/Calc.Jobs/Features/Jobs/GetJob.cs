using Calc.Core.Callbacks;
using Calc.Data;
using Calc.Jobs.Domain;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Calc.Jobs.Features.Jobs;

/// <summary>GET /jobs/{id}: the job with its result and its callback's delivery; 404 once it has expired.</summary>
internal static class GetJob
{
    public static void MapGetJob(this RouteGroupBuilder group) =>
        group.MapGet("/{id}", HandleAsync)
            .WithName("GetJob")
            .WithSummary("Gets a job, with its result once done; 404 after it expired.");

    private static async Task<Results<Ok<JobResponse>, ProblemHttpResult>> HandleAsync(
        string id,
        IDocumentRepository<Job> repository,
        CallbackOutbox callbacks,
        CancellationToken cancellationToken)
    {
        var stored = await repository.LoadAsync(id, cancellationToken);
        if (stored is null)
        {
            return Problems.NotFound(id);
        }

        var callback = stored.Document.CallbackUrl is null ? null : await callbacks.GetStatusAsync(id, cancellationToken);
        return TypedResults.Ok(stored.Document.ToResponse(callback: callback));
    }
}
