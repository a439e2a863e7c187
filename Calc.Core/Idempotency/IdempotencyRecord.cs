using Calc.Data;

namespace Calc.Core.Idempotency;

/// <summary>
/// One remembered key: which resource it made and a hash of the request that made it. Its id is derived from the
/// service and the key (<see cref="IdempotencyKeys"/>), so two requests with one key, on any instances, meet on one id.
/// </summary>
internal sealed record IdempotencyRecord
{
    public required string ResourceId { get; init; }
    public required string RequestHash { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
}

/// <summary>How keys are stored: one collection, ordered by when the key was first used, each with its expiry.</summary>
internal static class IdempotencyStore
{
    public static readonly DocumentCollection<IdempotencyRecord> Collection = new()
    {
        Name = "idempotency_keys",
        SortKey = r => r.CreatedAt.ToUnixTimeMilliseconds(),
    };
}
