using Calc.Core.Callbacks;
using Calc.Data;
using Calc.Jobs.Domain;
using FastEndpoints;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Calc.Jobs.Features.Jobs;

/// <summary>GET /jobs/{id}: the job with its result and its callback's delivery; 404 once it has expired.</summary>
internal sealed class GetJob(IDocumentRepository<Job> repository, CallbackOutbox callbacks)
    : EndpointWithoutRequest<Results<Ok<JobResponse>, ProblemHttpResult>>
{
    public override void Configure()
    {
        Get("/jobs/{id}");
        Description(b => b.WithName("GetJob").WithTags("Jobs").WithSummary("Gets a job, with its result once done; 404 after it expired."));
    }

    public override async Task<Results<Ok<JobResponse>, ProblemHttpResult>> ExecuteAsync(CancellationToken ct)
    {
        var id = Route<string>("id")!;
        var stored = await repository.LoadAsync(id, ct);
        if (stored is null)
        {
            return Problems.NotFound(id);
        }

        var callback = stored.Document.CallbackUrl is null ? null : await callbacks.GetStatusAsync(id, ct);
        return TypedResults.Ok(stored.Document.ToResponse(callback: callback));
    }
}
