using System.Runtime.InteropServices;

namespace Calc.Cache.Server;

/// <summary>
/// What makes EXEC and scripts atomic against every connection on every event loop: every batch of commands runs in
/// shared mode (<see cref="EnterShared"/>, once per batch, not per command), an EXEC or a script in exclusive mode,
/// which waits until no batch runs anywhere and keeps new batches out until it is done. Shared entries count in
/// per-thread stripes (one cache line each), so two loops entering at once do not share a written line: the cost for
/// GET/SET is two uncontended interlocked operations per batch.
/// <para>
/// A script that has run longer than busy-reply-threshold (<see cref="BusyScript"/>) does not keep other loops
/// waiting: <see cref="EnterShared"/> returns false, and the batch answers -BUSY to every command but SCRIPT KILL
/// (Redis's behaviour), retrying shared mode before each command so that it resumes as soon as the script ends.
/// </para>
/// </summary>
internal sealed class ExclusiveGate
{
    private const int Stripes = 64; // power of two; more than any io-threads setting needs to rarely share one

    [ThreadStatic]
    private static int t_stripe;

    private static int s_nextStripe;

    private readonly Stripe[] _readers = new Stripe[Stripes];
    private readonly Lock _exclusive = new();
    private volatile int _exclusiveWanted;

    /// <summary>Set by the script runner while a script that has passed busy-reply-threshold holds exclusive mode.</summary>
    public volatile bool BusyScript;

    /// <summary>
    /// Enters shared mode for a batch; false (not entered) while a busy script holds exclusive mode, so the caller
    /// answers -BUSY instead of waiting. Waits (briefly: an EXEC's length) while an exclusive section runs otherwise.
    /// </summary>
    public bool EnterShared()
    {
        ref var slot = ref _readers[MyStripe()].Count;
        var spin = default(SpinWait);
        while (true)
        {
            Interlocked.Increment(ref slot); // a full fence: the read below cannot move before it
            if (_exclusiveWanted == 0)
            {
                return true;
            }

            Interlocked.Decrement(ref slot);
            while (_exclusiveWanted != 0)
            {
                if (BusyScript)
                {
                    return false;
                }

                spin.SpinOnce();
            }
        }
    }

    /// <summary>Enters shared mode only if no exclusive section is running or waiting.</summary>
    public bool TryEnterShared()
    {
        ref var slot = ref _readers[MyStripe()].Count;
        Interlocked.Increment(ref slot);
        if (_exclusiveWanted == 0)
        {
            return true;
        }

        Interlocked.Decrement(ref slot);
        return false;
    }

    public void ExitShared() => Interlocked.Decrement(ref _readers[MyStripe()].Count);

    /// <summary>
    /// Runs <paramref name="body"/> while no batch runs anywhere. The caller must not hold shared mode (it would wait
    /// for itself): <see cref="Commands.RespSession"/> leaves its batch's shared mode first and enters it again after.
    /// </summary>
    public void RunExclusive<TState>(TState state, Action<TState> body)
    {
        // One exclusive section at a time; the lock is fair enough, and sections are short (or a script, which
        // then makes the others answer -BUSY).
        _exclusive.Enter();
        try
        {
            _exclusiveWanted = 1;
            Interlocked.MemoryBarrier();
            var spin = default(SpinWait);
            while (SharedCount() != 0)
            {
                spin.SpinOnce();
            }

            body(state);
        }
        finally
        {
            BusyScript = false;
            _exclusiveWanted = 0;
            _exclusive.Exit();
        }
    }

    private long SharedCount()
    {
        long sum = 0;
        for (var i = 0; i < Stripes; i++)
        {
            sum += Volatile.Read(ref _readers[i].Count);
        }

        return sum;
    }

    private static int MyStripe()
    {
        var stripe = t_stripe;
        if (stripe == 0)
        {
            stripe = t_stripe = (Interlocked.Increment(ref s_nextStripe) & (Stripes - 1)) + 1;
        }

        return stripe - 1;
    }

    [StructLayout(LayoutKind.Explicit, Size = 128)] // two cache lines: the adjacent-line prefetcher pairs lines
    private struct Stripe
    {
        [FieldOffset(64)]
        public long Count;
    }
}
