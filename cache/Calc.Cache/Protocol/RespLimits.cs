namespace Calc.Cache.Protocol;

/// <summary>Bounds the parser enforces on untrusted input; the defaults are Redis 7's.</summary>
public sealed record RespLimits
{
    /// <summary>Largest bulk string argument (Redis: proto-max-bulk-len, 512 MB).</summary>
    public long MaxBulkLength { get; init; } = 512L * 1024 * 1024;

    /// <summary>Most arguments in one command (Redis accepts up to 1024*1024*1024; we bound it lower).</summary>
    public int MaxArguments { get; init; } = 1024 * 1024;

    /// <summary>Longest inline command line and longest header line (Redis: PROTO_INLINE_MAX_SIZE, 64 KB).</summary>
    public int MaxInlineLength { get; init; } = 64 * 1024;

    /// <summary>Sum of the declared argument sizes of one command (Redis: client-query-buffer-limit, 1 GB).</summary>
    public long MaxRequestBytes { get; init; } = 1024L * 1024 * 1024;
}
