using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Calc.Testing;

namespace Calc.Jobs.Tests;

/// <summary>Every input whose size decides how much the service reads or skips meets a configured limit: 400 or 413 naming it.</summary>
public sealed class InputLimitsTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public void Dispose() => _directory.Dispose();

    private static async Task<(HttpStatusCode Status, JsonObject Body)> ReadAsync(HttpResponseMessage response) =>
        (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync(Token))!.AsObject());

    [Fact]
    public async Task A_bulk_upload_with_more_rows_than_the_limit_is_a_400_on_body_naming_the_key()
    {
        await using var app = new JobsApp(_directory, ("Jobs:MaxBulkRows", "3"));
        var api = new JobsClient(app.CreateClient());

        using var content = new StringContent("daysOnline,budget\n1,1\n1,1\n1,1\n1,1\n", Encoding.UTF8, "text/csv");
        var (status, body) = await ReadAsync(await api.Http.PostAsync("/jobs/budget/bulk", content, Token));

        status.ShouldBe(HttpStatusCode.BadRequest);
        body["errors"]!["body"]![0]!.GetValue<string>().ShouldContain("at most 3 rows (Jobs:MaxBulkRows)");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_bulk_upload_larger_than_the_byte_limit_is_a_413_naming_the_key_with_or_without_a_content_length(bool withLength)
    {
        await using var app = new JobsApp(_directory, ("Jobs:MaxBulkBytes", "1000"));
        var api = new JobsClient(app.CreateClient());
        var csv = Encoding.UTF8.GetBytes("daysOnline,budget\n" + string.Concat(Enumerable.Repeat("1,1.00\n", 200)));

        using HttpContent content = withLength ? new ByteArrayContent(csv) : new StreamContent(new UnknownLengthStream(csv));
        content.Headers.ContentType = new("text/csv");
        var (status, body) = await ReadAsync(await api.Http.PostAsync("/jobs/budget/bulk", content, Token));

        status.ShouldBe(HttpStatusCode.RequestEntityTooLarge);
        body["detail"]!.GetValue<string>().ShouldContain("at most 1000 bytes (Jobs:MaxBulkBytes)");
    }

    [Theory]
    [InlineData("/jobs?page=0", "page", "between 1 and 1000000 (Jobs:MaxPage)")]
    [InlineData("/jobs?page=1000001", "page", "between 1 and 1000000 (Jobs:MaxPage)")]
    [InlineData("/jobs?page=99999999999", "page", "wrong type or format")]
    [InlineData("/jobs?pageSize=0", "pageSize", "between 1 and 100 (Jobs:MaxPageSize)")]
    [InlineData("/jobs?pageSize=101", "pageSize", "between 1 and 100 (Jobs:MaxPageSize)")]
    public async Task List_paging_past_its_limits_is_a_400_naming_the_parameter_and_the_key(string url, string field, string message)
    {
        await using var app = new JobsApp(_directory);
        var api = new JobsClient(app.CreateClient());

        var (status, body) = await ReadAsync(await api.Http.GetAsync(url, Token));

        status.ShouldBe(HttpStatusCode.BadRequest);
        body["errors"]![field]![0]!.GetValue<string>().ShouldContain(message);
    }

    [Fact]
    public async Task Paging_limits_follow_their_keys_and_an_offset_past_the_repository_range_is_a_400_naming_page()
    {
        await using var app = new JobsApp(_directory, ("Jobs:MaxPageSize", "1000"), ("Jobs:MaxPage", "10000000"));
        var api = new JobsClient(app.CreateClient());

        var (large, _) = await ReadAsync(await api.Http.GetAsync("/jobs?page=2&pageSize=1000", Token));
        var (overflow, body) = await ReadAsync(await api.Http.GetAsync("/jobs?page=10000000&pageSize=1000", Token));

        large.ShouldBe(HttpStatusCode.OK);
        overflow.ShouldBe(HttpStatusCode.BadRequest);
        body["errors"]!["page"]![0]!.GetValue<string>().ShouldContain("skips more than 2147483647 items");
    }

    // A body the client cannot announce the length of (sent chunked), so the limit is met while reading.
    private sealed class UnknownLengthStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
