namespace Calc.Jobs.Domain;

/// <summary>
/// A bulk upload: which rows became jobs and which were rejected, and why. It expires with the last of its jobs.
/// </summary>
internal sealed record Batch
{
    public required string Id { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset ExpiresAt { get; init; }
    public required int Rows { get; init; }
    public required IReadOnlyList<string> JobIds { get; init; }
    public required IReadOnlyList<RowError> Errors { get; init; }
}

/// <summary>Why one CSV row was not accepted.</summary>
/// <param name="Row">The data row's number: 1 is the first row after the header.</param>
/// <param name="Line">The line of the file it starts on (the header is line 1).</param>
/// <param name="Field">The column (or <c>row</c> for the row as a whole).</param>
/// <param name="Message">What is wrong.</param>
public sealed record RowError(int Row, int Line, string Field, string Message);
