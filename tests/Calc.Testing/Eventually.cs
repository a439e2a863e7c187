using System.Diagnostics;
using Xunit;

namespace Calc.Testing;

/// <summary>
/// Waiting for something another process or thread does later (a status that changes, a log line, a metric): polls
/// until it holds, and fails after a deadline with what was awaited and the last thing seen, never silently. The one
/// deadline-and-poll loop of the tests; the deadline is generous by design (the machine is shared), so it bounds a
/// hang and says nothing about speed.
/// </summary>
public static class Eventually
{
    /// <summary>Time between two polls unless a call says otherwise.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>Waits until <paramref name="condition"/> is true.</summary>
    /// <param name="condition">Polled at once and then every <paramref name="every"/>.</param>
    /// <param name="within">When to give up.</param>
    /// <param name="waitingFor">What is awaited, for the failure message ("the calculation to finish").</param>
    /// <param name="context">Extra text for the failure message, read when it fails (a process's output).</param>
    /// <param name="every">Time between polls (<see cref="DefaultInterval"/>).</param>
    /// <param name="cancellationToken">The test's token (<see cref="TestContext.Current"/>'s unless given).</param>
    /// <exception cref="TimeoutException">Not true within <paramref name="within"/>.</exception>
    public static async Task TrueAsync(Func<Task<bool>> condition, TimeSpan within, string waitingFor, Func<string>? context = null,
        TimeSpan? every = null, CancellationToken? cancellationToken = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        _ = await ValueAsync(condition, static done => done, within, waitingFor,
            context is null ? null : _ => context(), every, cancellationToken);
    }

    /// <inheritdoc cref="TrueAsync(Func{Task{bool}}, TimeSpan, string, Func{string}?, TimeSpan?, CancellationToken?)"/>
    public static Task TrueAsync(Func<bool> condition, TimeSpan within, string waitingFor, Func<string>? context = null,
        TimeSpan? every = null, CancellationToken? cancellationToken = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        return TrueAsync(() => Task.FromResult(condition()), within, waitingFor, context, every, cancellationToken);
    }

    /// <summary>Polls <paramref name="probe"/> until <paramref name="accept"/> takes what it returned, and returns that.</summary>
    /// <param name="probe">Reads the current state; polled at once and then every <paramref name="every"/>.</param>
    /// <param name="accept">Whether the state is the awaited one.</param>
    /// <param name="within">When to give up.</param>
    /// <param name="waitingFor">What is awaited, for the failure message.</param>
    /// <param name="describe">The last state as text, for the failure message (<c>ToString()</c> unless given).</param>
    /// <param name="every">Time between polls (<see cref="DefaultInterval"/>).</param>
    /// <param name="cancellationToken">The test's token (<see cref="TestContext.Current"/>'s unless given).</param>
    /// <exception cref="TimeoutException">No accepted state within <paramref name="within"/>; the message has the last one.</exception>
    public static async Task<T> ValueAsync<T>(Func<Task<T>> probe, Func<T, bool> accept, TimeSpan within, string waitingFor,
        Func<T, string>? describe = null, TimeSpan? every = null, CancellationToken? cancellationToken = null)
    {
        ArgumentNullException.ThrowIfNull(probe);
        ArgumentNullException.ThrowIfNull(accept);
        var token = cancellationToken ?? TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        var polls = 0;
        while (true)
        {
            var value = await probe();
            polls++;
            if (accept(value))
            {
                return value;
            }

            if (clock.Elapsed > within)
            {
                var last = describe is null ? value?.ToString() : describe(value);
                throw new TimeoutException($"Waited {within.TotalSeconds:0.#} s ({polls} polls) for {waitingFor}; last seen: {last}");
            }

            await Task.Delay(every ?? DefaultInterval, token);
        }
    }
}
