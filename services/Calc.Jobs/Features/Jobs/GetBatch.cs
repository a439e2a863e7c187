using Calc.Core.Contracts;
using Calc.Data;
using Calc.Jobs.Domain;
using FastEndpoints;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Calc.Jobs.Features.Jobs;

/// <summary>A bulk upload's progress.</summary>
/// <param name="BatchId">The batch.</param>
/// <param name="Rows">Data rows read.</param>
/// <param name="Accepted">Rows that became jobs.</param>
/// <param name="Rejected">Rows that did not.</param>
/// <param name="Jobs">The accepted jobs per status now; <c>expired</c> counts those already gone.</param>
/// <param name="Finished">True once every accepted job is final (or expired).</param>
/// <param name="Errors">The rejected rows' errors.</param>
public sealed record BatchProgress(string BatchId, int Rows, int Accepted, int Rejected, IReadOnlyDictionary<string, int> Jobs, bool Finished, IReadOnlyList<RowError> Errors);

/// <summary>GET /jobs/batches/{id}: how far a bulk upload has come, counted over its jobs.</summary>
internal sealed class GetBatch(IDocumentRepository<Batch> batches, IDocumentRepository<Job> jobs)
    : EndpointWithoutRequest<Results<Ok<BatchProgress>, ProblemHttpResult>>
{
    // Job ids loaded per LoadManyAsync call: the repository reads them in a few round trips, and at most this many
    // jobs are held in memory at once however large the batch (up to Jobs:MaxBulkRows).
    private const int Slice = 1000;

    public override void Configure()
    {
        Get("/jobs/batches/{id}");
        Description(b => b.WithName("GetBatch").WithTags("Jobs").WithSummary("A bulk upload's progress: its jobs per status, and the rejected rows."));
    }

    public override async Task<Results<Ok<BatchProgress>, ProblemHttpResult>> ExecuteAsync(CancellationToken ct)
    {
        var id = Route<string>("id")!;
        var stored = await batches.LoadAsync(id, ct);
        if (stored is null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Batch not found", detail: $"There is no batch '{id}' (or it has expired).");
        }

        var batch = stored.Document;
        var counts = WireNames<JobStatus>.All.Append("expired").ToDictionary(s => s, _ => 0, StringComparer.Ordinal);
        foreach (var slice in batch.JobIds.Chunk(Slice))
        {
            var found = (await jobs.LoadManyAsync(slice, ct)).ToDictionary(job => job.Id, job => job.Document.Status, StringComparer.Ordinal);
            // Counted per id of the batch, not per document returned (which come once per id): an id not returned has expired.
            foreach (var jobId in slice)
            {
                counts[found.TryGetValue(jobId, out var status) ? WireNames<JobStatus>.Of(status) : "expired"]++;
            }
        }

        var finished = counts["queued"] == 0 && counts["processing"] == 0;
        return TypedResults.Ok(new BatchProgress(batch.Id, batch.Rows, batch.JobIds.Count, batch.Rows - batch.JobIds.Count, counts, finished, batch.Errors));
    }
}
