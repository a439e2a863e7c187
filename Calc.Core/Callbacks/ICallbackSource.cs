namespace Calc.Core.Callbacks;

/// <summary>
/// The service side of callbacks: builds the body posted for one piece of work (a calculation, a job) from its stored
/// state. The body is built at each attempt instead of being copied into the delivery record, so a large result is
/// stored once.
/// </summary>
public interface ICallbackSource
{
    /// <summary>The work's callback body if it is final; <see cref="CallbackContent.NotFinal"/> or <see cref="CallbackContent.Gone"/> otherwise.</summary>
    /// <param name="workId">The calculation or job id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task<CallbackContent> GetContentAsync(string workId, CancellationToken cancellationToken);
}

/// <summary>What <see cref="ICallbackSource"/> found for one piece of work.</summary>
/// <param name="Kind">Final (with a body), not final yet, or gone (deleted or expired).</param>
/// <param name="Body">The JSON body to post when final.</param>
public sealed record CallbackContent(CallbackContentKind Kind, ReadOnlyMemory<byte> Body)
{
    /// <summary>The work is not final yet.</summary>
    public static CallbackContent NotFinal { get; } = new(CallbackContentKind.NotFinal, ReadOnlyMemory<byte>.Empty);

    /// <summary>The work no longer exists: its delivery is dropped.</summary>
    public static CallbackContent Gone { get; } = new(CallbackContentKind.Gone, ReadOnlyMemory<byte>.Empty);

    /// <summary>The work is final: post <paramref name="body"/>.</summary>
    /// <param name="body">UTF-8 JSON.</param>
    public static CallbackContent Final(ReadOnlyMemory<byte> body) => new(CallbackContentKind.Final, body);
}

/// <summary>See <see cref="CallbackContent"/>.</summary>
public enum CallbackContentKind
{
    /// <summary>Final: there is a body to post.</summary>
    Final,
    /// <summary>Not final yet.</summary>
    NotFinal,
    /// <summary>Deleted or expired.</summary>
    Gone,
}
