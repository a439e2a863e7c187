using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Calc.Testing;

namespace Calc.Jobs.Tests;

/// <summary>Bulk CSV uploads: exact row errors, valid rows processed, batch progress.</summary>
public sealed class BulkUploadTests(RedisServer redis, RabbitMqServer broker) : IDisposable
{
    private readonly TempDirectory _directory = new();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public void Dispose() => _directory.Dispose();

    private static async Task<(HttpStatusCode Status, JsonObject Body)> UploadAsync(JobsClient api, string csv)
    {
        using var content = new StringContent(csv, Encoding.UTF8, "text/csv");
        using var response = await api.Http.PostAsync("/jobs/budget/bulk", content, Token);
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync(Token))!.AsObject());
    }

    private static Task<JsonObject> WaitForBatchAsync(JobsClient api, string batchId, TimeSpan limit) =>
        WaitForBatchAsync(api, batchId, progress => progress["finished"]!.GetValue<bool>(), limit, "the batch to finish");

    private static Task<JsonObject> WaitForBatchAsync(JobsClient api, string batchId, Func<JsonObject, bool> condition, TimeSpan limit, string waitingFor) =>
        Eventually.ValueAsync(async () => (await api.Http.GetFromJsonAsync<JsonObject>($"/jobs/batches/{batchId}", Token))!, condition, limit, waitingFor,
            progress => progress.ToJsonString(), TimeSpan.FromMilliseconds(100), Token);

    [Fact]
    public async Task Invalid_rows_are_reported_with_row_line_field_and_message_and_valid_rows_still_become_jobs()
    {
        await using var app = new JobsApp(_directory);
        var api = new JobsClient(app.CreateClient());
        const string csv = """
            jobId,daysOnline,budget,priority
            a-1,3,100.00,
            a-2,0,10,normal
            "a 3",2,1.234,urgent
            ,2,"1,5",
            a-1,1,1,
            a-6,2,0.03,high
            a-7,2
            """;

        var (status, body) = await UploadAsync(api, csv);

        status.ShouldBe(HttpStatusCode.Accepted, body.ToJsonString());
        (body["rows"]!.GetValue<int>(), body["accepted"]!.GetValue<int>(), body["rejected"]!.GetValue<int>()).ShouldBe((7, 2, 5));
        var errors = body["errors"]!.AsArray()
            .Select(e => $"{e!["row"]}|{e["line"]}|{e["field"]}|{e["message"]}")
            .ToArray();
        errors.ShouldBe(
        [
            "2|3|daysOnline|'daysOnline' must be between 1 and 3650.",
            "3|4|jobId|'jobId' must be 1 to 64 letters, digits, '-' or '_'.",
            "3|4|budget|'budget' must be greater than 0, at most 1000000000000, with at most two decimals.",
            "3|4|priority|'priority' must be normal or high.",
            "4|5|budget|'budget' must be a number with a decimal point (e.g. 1234.50), not '1,5'.",
            "5|6|jobId|'jobId' a-1 appears in an earlier row.",
            "7|8|row|The row has 2 fields; the header has 4.",
        ]);

        var progress = await WaitForBatchAsync(api, body["batchId"]!.GetValue<string>(), TimeSpan.FromSeconds(20));
        progress["finished"]!.GetValue<bool>().ShouldBeTrue();
        progress["jobs"]!["done"]!.GetValue<int>().ShouldBe(2);
        JobsClient.Amounts(await api.GetAsync("a-6")).ShouldBe([0.02m, 0.01m]);
    }

    [Fact]
    public async Task Progress_of_a_batch_larger_than_one_load_slice_counts_every_job_and_counts_expired_jobs_as_expired()
    {
        // One day online lasts 3 s: the 100 one-day jobs expire soon, the 1,000 hundred-day jobs (and the batch) stay.
        await using var app = new JobsApp(_directory, ("Jobs:DayLength", "00:00:03"));
        var api = new JobsClient(app.CreateClient());
        var csv = new StringBuilder("daysOnline,budget\n");
        for (var i = 1; i <= 1100; i++)
        {
            csv.Append(i % 11 == 0 ? "1" : "100").Append(",1.00\n");
        }

        var (status, body) = await UploadAsync(api, csv.ToString());
        status.ShouldBe(HttpStatusCode.Accepted, body.ToJsonString());
        body["accepted"]!.GetValue<int>().ShouldBe(1100);

        // The one-day jobs are gone once 3 s have passed, whether they ran first or not; wait for that and the rest done.
        var batchId = body["batchId"]!.GetValue<string>();
        var progress = await WaitForBatchAsync(api, batchId,
            p => p["jobs"]!["expired"]!.GetValue<int>() >= 100 && p["jobs"]!["done"]!.GetValue<int>() >= 1000,
            TimeSpan.FromSeconds(120), "100 jobs expired and 1000 done");

        var jobs = progress["jobs"]!.AsObject().ToDictionary(p => p.Key, p => p.Value!.GetValue<int>(), StringComparer.Ordinal);
        (jobs["done"], jobs["expired"], jobs.Values.Sum()).ShouldBe((1000, 100, 1100), progress.ToJsonString());
        progress["finished"]!.GetValue<bool>().ShouldBeTrue();
    }

    [Fact]
    public async Task A_file_without_the_required_columns_is_a_400()
    {
        await using var app = new JobsApp(_directory);
        var api = new JobsClient(app.CreateClient());

        var (status, body) = await UploadAsync(api, "jobId,days,budget\nx,1,1\n");

        status.ShouldBe(HttpStatusCode.BadRequest);
        body["errors"]!["body"]![0]!.GetValue<string>().ShouldContain("missing: [daysOnline]");
    }

    [Fact]
    public async Task A_thousand_row_upload_on_Redis_and_RabbitMQ_is_processed_by_two_workers_and_reported_as_finished()
    {
        var deployment = new JobsDeployment(redis, broker.ConnectionString);
        var apiStart = deployment.StartAsync("api", "bulk-api");
        var workerStarts = new[] { deployment.StartAsync("worker", "bulk-w1"), deployment.StartAsync("worker", "bulk-w2") };
        var (apiProcess, api) = await apiStart;
        await using var _ = apiProcess;
        var workers = await Task.WhenAll(workerStarts);
        try
        {
            var csv = new StringBuilder("daysOnline,budget\n");
            for (var i = 1; i <= 1000; i++)
            {
                csv.Append(i == 500 ? "x" : (i % 30 + 1).ToString(System.Globalization.CultureInfo.InvariantCulture))
                    .Append(',').Append((i * 1.01m).ToString(System.Globalization.CultureInfo.InvariantCulture)).Append('\n');
            }

            var (status, body) = await UploadAsync(api, csv.ToString());
            status.ShouldBe(HttpStatusCode.Accepted, body.ToJsonString());
            (body["accepted"]!.GetValue<int>(), body["rejected"]!.GetValue<int>()).ShouldBe((999, 1));
            body["errors"]![0]!["row"]!.GetValue<int>().ShouldBe(500);
            body["errors"]![0]!["field"]!.GetValue<string>().ShouldBe("daysOnline");

            var progress = await WaitForBatchAsync(api, body["batchId"]!.GetValue<string>(), TimeSpan.FromSeconds(60));
            progress["jobs"]!["done"]!.GetValue<int>().ShouldBe(999, progress.ToJsonString());
            var done = await api.Http.GetFromJsonAsync<JsonObject>("/jobs?status=done&pageSize=100", Token);
            done!["items"]!.AsArray().Select(j => j!["worker"]!.GetValue<string>()).Distinct().Order(StringComparer.Ordinal).ShouldBe(["bulk-w1", "bulk-w2"]);
        }
        finally
        {
            foreach (var (worker, _) in workers)
            {
                await worker.DisposeAsync();
            }
        }
    }
}
