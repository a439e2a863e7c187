namespace Calc.Bench.Data;

/// <summary>A document shaped like a calculation: a status (the indexed field), a creation time (the sort key), a few terms.</summary>
internal sealed record BenchDocument(string Owner, BenchStatus Status, long CreatedAt, IReadOnlyList<string> Terms, string? Result)
{
    public static string? IndexOf(BenchDocument document) => document.Status.ToString();

    public static BenchDocument Create(int i) => new(
        $"owner-{i % 97}",
        (BenchStatus)(i % 4),
        1_800_000_000_000 + i,
        new List<string> { "12345678901234567890", "98765432109876543210", $"{i}" },
        null);
}

internal enum BenchStatus
{
    Open,
    Running,
    Done,
    Failed,
}
