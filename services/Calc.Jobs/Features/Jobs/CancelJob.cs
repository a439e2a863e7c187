using Calc.Core.Callbacks;
using Calc.Core.Contracts;
using Calc.Core.Scheduling;
using Calc.Data;
using Calc.Jobs.Domain;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Calc.Jobs.Features.Jobs;

/// <summary>
/// DELETE /jobs/{id}: cancels a queued or processing job. A queued job's message is acknowledged without work when a
/// worker gets it; a job processing here stops at once; one processing on another worker cannot record its result.
/// </summary>
internal static class CancelJob
{
    public static void MapCancelJob(this RouteGroupBuilder group) =>
        group.MapDelete("/{id}", HandleAsync)
            .WithName("CancelJob")
            .WithSummary("Cancels a job that has not finished.");

    private static async Task<Results<Ok<JobResponse>, ProblemHttpResult>> HandleAsync(
        string id,
        IDocumentRepository<Job> repository,
        WorkScheduler scheduler,
        CallbackOutbox callbacks,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var result = await repository.ChangeAsync(
            id,
            j => j.IsFinal ? null : j.Finish(JobStatus.Cancelled, time.GetUtcNow(), "Cancelled by a user."),
            cancellationToken);
        if (result is null)
        {
            return Problems.NotFound(id);
        }

        if (!result.Changed)
        {
            return Problems.WrongState($"The job is already {WireNames<JobStatus>.Of(result.Document.Status)}; only an unfinished one can be cancelled.");
        }

        scheduler.Stop(id, StopReason.Cancelled);
        if (result.Document.CallbackUrl is not null)
        {
            await callbacks.ArmAsync(id, CancellationToken.None);
        }

        return TypedResults.Ok(result.Document.ToResponse());
    }
}
