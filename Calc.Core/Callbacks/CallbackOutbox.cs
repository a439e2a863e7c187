using System.Threading.Channels;
using Calc.Data;
using Microsoft.Extensions.Options;

namespace Calc.Core.Callbacks;

/// <summary>
/// What a service does with callbacks: register one when work is accepted with a <c>callbackUrl</c>, arm it when the
/// work reaches a final state, show its state, and re-arm it after it was dead-lettered. The dispatcher
/// (<c>Callbacks</c> hosted service) does the posting, in this or any other process sharing the database.
/// </summary>
/// <remarks>
/// Register before the work is stored and arm after its final state is stored: a process that stops in between
/// leaves a waiting delivery, which the dispatcher's sweep arms (or drops, when the work was never stored) later.
/// </remarks>
public sealed class CallbackOutbox
{
    private readonly IDocumentRepository<CallbackDelivery> _repository;
    private readonly CallbackOptions _options;
    private readonly TimeProvider _time;
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    internal CallbackOutbox(IDocumentRepository<CallbackDelivery> repository, IOptions<CallbackOptions> options, TimeProvider time)
    {
        _repository = repository;
        _options = options.Value;
        _time = time;
    }

    /// <summary>
    /// Stores a waiting delivery for <paramref name="workId"/>. Returns false when that work has one already (its id is taken).
    /// </summary>
    /// <param name="workId">The calculation or job id.</param>
    /// <param name="url">The validated callback URL.</param>
    /// <param name="requestId">The id of the request that created the work: it is posted and logged with the delivery.</param>
    /// <param name="expiresAt">When the delivery record goes (with the work it belongs to), or null.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<bool> RegisterAsync(string workId, string url, string? requestId, DateTimeOffset? expiresAt, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var delivery = new CallbackDelivery
        {
            WorkId = workId,
            Url = url,
            RequestId = requestId,
            TraceParent = Hosting.Telemetry.CurrentTraceParent(),
            CreatedAt = now,
            NextAttemptAt = now + _options.SweepInterval,
        };
        var write = await _repository.InsertAsync(workId, delivery, expiresAt, cancellationToken).ConfigureAwait(false);
        return write.Succeeded;
    }

    /// <summary>Removes the delivery of <paramref name="workId"/> (the work was not stored after all).</summary>
    /// <param name="workId">The work id.</param>
    public Task DropAsync(string workId) => _repository.DeleteAsync(workId, CancellationToken.None);

    /// <summary>
    /// The work reached its final state: makes its waiting delivery due now. Does nothing when the work has no
    /// callback or its delivery was armed already.
    /// </summary>
    /// <param name="workId">The work id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task ArmAsync(string workId, CancellationToken cancellationToken = default)
    {
        var now = _time.GetUtcNow();
        // The work that finished it (a calculation's processing, a job's pipeline) becomes the callback's parent span.
        var traceParent = Hosting.Telemetry.CurrentTraceParent();
        var changed = await _repository.ChangeAsync(
            workId,
            d => d.State == CallbackState.Waiting ? d with { State = CallbackState.Pending, NextAttemptAt = now, TraceParent = traceParent ?? d.TraceParent } : null,
            cancellationToken).ConfigureAwait(false);
        if (changed is { Changed: true })
        {
            Wake();
        }
    }

    /// <summary>The delivery's state for the API, or null when the work has no callback.</summary>
    /// <param name="workId">The work id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<CallbackStatus?> GetStatusAsync(string workId, CancellationToken cancellationToken)
    {
        var stored = await _repository.LoadAsync(workId, cancellationToken).ConfigureAwait(false);
        return stored?.Document.ToStatus(_options.MaxAttempts);
    }

    /// <summary>
    /// Re-arms a dead-lettered delivery for a new round of <see cref="CallbackOptions.MaxAttempts"/> attempts, due now.
    /// </summary>
    /// <param name="workId">The work id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<CallbackRetry> RetryAsync(string workId, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var changed = await _repository.ChangeAsync(
            workId,
            d => d.State == CallbackState.DeadLettered
                ? d with { State = CallbackState.Pending, Attempts = 0, Rearmed = d.Rearmed + 1, NextAttemptAt = now, Owner = null }
                : null,
            cancellationToken).ConfigureAwait(false);
        if (changed is null)
        {
            return new CallbackRetry(CallbackRetryOutcome.NoCallback, null);
        }

        var status = changed.Document.ToStatus(_options.MaxAttempts);
        if (!changed.Changed)
        {
            return new CallbackRetry(CallbackRetryOutcome.NotDeadLettered, status);
        }

        Wake();
        return new CallbackRetry(CallbackRetryOutcome.Rearmed, status);
    }

    internal void Wake() => _wake.Writer.TryWrite(true);

    /// <summary>Waits until a delivery was armed in this process, or <paramref name="timeout"/> has passed.</summary>
    internal async Task WaitForWorkAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(timeout);
        try
        {
            await _wake.Reader.ReadAsync(timer.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The poll interval passed: look anyway (another process may have armed something).
        }
    }
}

/// <summary>The outcome of <see cref="CallbackOutbox.RetryAsync"/>.</summary>
/// <param name="Outcome">What happened.</param>
/// <param name="Status">The delivery as it stands now (null when there is none).</param>
public sealed record CallbackRetry(CallbackRetryOutcome Outcome, CallbackStatus? Status);

/// <summary>See <see cref="CallbackRetry"/>.</summary>
public enum CallbackRetryOutcome
{
    /// <summary>The delivery is pending again, due now.</summary>
    Rearmed,
    /// <summary>The work has no callback.</summary>
    NoCallback,
    /// <summary>The delivery is not dead-lettered (waiting, pending or delivered): nothing to retry.</summary>
    NotDeadLettered,
}
