using System.Globalization;
using System.Text;
using Calc.Core.Contracts;
using Calc.Core.Hosting;
using Calc.Core.Idempotency;
using Calc.Core.Scheduling;
using Calc.Core.Validation;
using Calc.Data;
using Calc.Jobs.Domain;
using FastEndpoints;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Calc.Jobs.Features.Jobs;

/// <summary>The answer to a bulk upload.</summary>
/// <param name="BatchId">The batch, for <c>GET /jobs/batches/{batchId}</c>.</param>
/// <param name="Rows">Data rows read.</param>
/// <param name="Accepted">Rows that became queued jobs.</param>
/// <param name="Rejected">Rows that did not (see <paramref name="Errors"/>).</param>
/// <param name="Errors">One entry per problem: row, line, field, message.</param>
public sealed record BulkResponse(string BatchId, int Rows, int Accepted, int Rejected, IReadOnlyList<RowError> Errors);

/// <summary>
/// POST /jobs/budget/bulk with a CSV body (<c>text/csv</c>): a header naming the columns <c>daysOnline</c> and
/// <c>budget</c> (required) and <c>jobId</c>, <c>priority</c>, <c>timeoutSeconds</c>, <c>callbackUrl</c> (optional), in any order, then
/// one job per row. Every valid row becomes a queued job; every invalid one is reported with its row number, field and
/// message (valid rows are still processed). 202 with the batch id; 400 when the file as a whole cannot be read, and
/// for an <c>Idempotency-Key</c> (not supported here).
/// </summary>
internal sealed class CreateBudgetJobsInBulk(
    JobSubmitter submitter,
    IDocumentRepository<Batch> batches,
    IOptions<JobsOptions> options,
    IOptions<CapacityOptions> capacity,
    TimeProvider time)
    : EndpointWithoutRequest<Results<Accepted<BulkResponse>, ValidationProblem, ProblemHttpResult>>
{
    private const int Parallelism = 16;

    private static readonly string[] Columns = ["jobId", "daysOnline", "budget", "priority", "timeoutSeconds", "callbackUrl"];
    private static readonly string[] RequiredColumns = ["daysOnline", "budget"];

    // Each row is held to the rules of POST /jobs/budget (the validator reads its limits per validation).
    private static readonly CreateBudgetJobValidator RowValidator = new();

    public override void Configure()
    {
        Post("/jobs/budget/bulk");
        Description(b => b.Accepts<string>("text/csv").WithMetadata(new AssumedContentType("text/csv")).WithName("CreateBudgetJobsInBulk").WithTags("Jobs")
            .WithSummary("Queues one budget job per CSV row; invalid rows are reported by row, field and message."));
    }

    public override async Task<Results<Accepted<BulkResponse>, ValidationProblem, ProblemHttpResult>> ExecuteAsync(CancellationToken ct)
    {
        var request = HttpContext.Request;
        // Refused rather than ignored: the gateway retries a POST with the header on another instance, and a batch
        // sent twice would queue every row twice.
        if (IdempotencyKeys.RefuseIfPresent(request.HttpContext, "a bulk upload is not made idempotent; send it without the header, once.") is { } refusal)
        {
            return refusal;
        }

        var limits = options.Value;
        var text = await ReadBodyAsync(request, limits.MaxBulkBytes, ct);
        if (text is null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Too large",
                detail: $"A bulk upload may have at most {limits.MaxBulkBytes} bytes (Jobs:MaxBulkBytes).");
        }

        using var records = CsvRows.Read(text).GetEnumerator();
        if (!records.MoveNext())
        {
            return FileError("The CSV is empty: it needs a header row and one row per job.");
        }

        var header = records.Current.Fields.Select(f => f.Trim()).ToArray();
        var unknown = header.Where(h => !Columns.Contains(h, StringComparer.OrdinalIgnoreCase)).ToList();
        var missing = RequiredColumns.Where(c => !header.Contains(c, StringComparer.OrdinalIgnoreCase)).ToList();
        if (unknown.Count > 0 || missing.Count > 0 || header.Distinct(StringComparer.OrdinalIgnoreCase).Count() != header.Length)
        {
            return FileError($"The header must name the columns daysOnline and budget, optionally jobId, priority, timeoutSeconds, callbackUrl, each once. " +
                $"Unknown: [{string.Join(", ", unknown)}]; missing: [{string.Join(", ", missing)}].");
        }

        var errors = new List<RowError>();
        var valid = new List<(int Row, int Line, CreateBudgetJobRequest Request)>();
        var seenIds = new HashSet<string>(StringComparer.Ordinal);
        var row = 0;
        while (records.MoveNext())
        {
            row++;
            if (row > limits.MaxBulkRows)
            {
                return FileError($"A bulk upload may have at most {limits.MaxBulkRows} rows (Jobs:MaxBulkRows).");
            }

            var (line, fields) = records.Current;
            var rowErrors = new List<RowError>();
            var parsed = ParseRow(header, fields, row, line, rowErrors);
            if (parsed is not null)
            {
                var result = await RowValidator.ValidateAsync(parsed, ct);
                rowErrors.AddRange(result.Errors.Select(e => new RowError(row, line, e.PropertyName, e.ErrorMessage)));
                if (rowErrors.Count == 0 && parsed.JobId is { } id && !seenIds.Add(id))
                {
                    rowErrors.Add(new RowError(row, line, "jobId", $"'jobId' {id} appears in an earlier row."));
                }
            }

            if (rowErrors.Count == 0)
            {
                valid.Add((row, line, parsed!));
            }
            else
            {
                errors.AddRange(rowErrors);
            }
        }

        // Admission for the batch as a whole: all of its normal jobs must fit (high ones may use the reserved places).
        var normalCount = valid.Count(v => v.Request.Priority is null or "normal");
        if (normalCount > 0 && await submitter.FreePlacesAsync(WorkPriority.Normal, ct) < normalCount)
        {
            return ProblemResults.ServiceUnavailable(request.HttpContext, capacity.Value.RetryAfterSeconds, "No capacity",
                $"The queue has no room for {normalCount} more jobs now. Send the batch again later, or in smaller parts.");
        }

        var batchId = JobIds.New();
        var accepted = new string?[valid.Count];
        var submitErrors = new RowError?[valid.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, valid.Count), new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = ct }, async (i, token) =>
        {
            var (validRow, line, job) = valid[i];
            BudgetDistribution.TryToCents(job.Budget!.Value, out var cents);
            var priority = WorkRequestRules.ParsePriority(job.Priority);
            var created = submitter.NewBudgetJob(job.JobId, job.DaysOnline!.Value, cents, priority, job.TimeoutSeconds, batchId,
                job.CallbackUrl, request.HttpContext.TraceIdentifier);
            switch (await submitter.SubmitAsync(created, token))
            {
                case JobSubmitter.Outcome.Accepted:
                    accepted[i] = created.Id;
                    break;
                case JobSubmitter.Outcome.AlreadyExists:
                    submitErrors[i] = new RowError(validRow, line, "jobId", $"A job with id '{created.Id}' exists already.");
                    break;
                default:
                    submitErrors[i] = new RowError(validRow, line, "row", "The job queue could not take this job; send the row again later.");
                    break;
            }
        });

        // Stable: a row's errors stay in the order the validator gave them.
        errors = [.. errors.Concat(submitErrors.OfType<RowError>()).OrderBy(e => e.Row)];
        var jobIds = accepted.OfType<string>().ToList();
        var now = time.GetUtcNow();
        var longest = valid.Count == 0 ? 1 : valid.Max(v => v.Request.DaysOnline!.Value);
        var batch = new Batch
        {
            Id = batchId,
            CreatedAt = now,
            ExpiresAt = now + (limits.DayLength * longest),
            Rows = row,
            JobIds = jobIds,
            Errors = errors,
        };
        await batches.InsertAsync(batch.Id, batch, batch.ExpiresAt, CancellationToken.None);
        return TypedResults.Accepted($"/jobs/batches/{batchId}", new BulkResponse(batchId, row, jobIds.Count, row - jobIds.Count, errors));
    }

    private static CreateBudgetJobRequest? ParseRow(string[] header, IReadOnlyList<string> fields, int row, int line, List<RowError> errors)
    {
        if (fields.Count != header.Length)
        {
            errors.Add(new RowError(row, line, "row", $"The row has {fields.Count} fields; the header has {header.Length}."));
            return null;
        }

        string? Field(string name)
        {
            var index = Array.FindIndex(header, h => string.Equals(h, name, StringComparison.OrdinalIgnoreCase));
            var value = index < 0 ? null : fields[index].Trim();
            return string.IsNullOrEmpty(value) ? null : value;
        }

        int? ReadInt(string name)
        {
            var value = Field(name);
            if (value is null)
            {
                return null;
            }

            if (int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number))
            {
                return number;
            }

            errors.Add(new RowError(row, line, name, $"'{name}' must be a whole number, not '{Shorten(value)}'."));
            return null;
        }

        decimal? budget = null;
        if (Field("budget") is { } text)
        {
            if (decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
            {
                budget = amount;
            }
            else
            {
                errors.Add(new RowError(row, line, "budget", $"'budget' must be a number with a decimal point (e.g. 1234.50), not '{Shorten(text)}'."));
            }
        }

        var request = new CreateBudgetJobRequest(Field("jobId"), ReadInt("daysOnline"), budget, Field("priority"), ReadInt("timeoutSeconds"), Field("callbackUrl"));
        return errors.Count == 0 ? request : null;
    }

    private static string Shorten(string value) => value.Length <= 40 ? value : value[..40] + "…";

    private static ValidationProblem FileError(string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["body"] = [message] });

    // Reads at most maxBytes (+1 to tell "too large"); null when the body is larger.
    private static async Task<string?> ReadBodyAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetString(buffer.GetBuffer(), 0, (int)buffer.Length).TrimStart('\uFEFF');
    }
}
