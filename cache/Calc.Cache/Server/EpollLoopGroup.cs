using System.Diagnostics;

namespace Calc.Cache.Server;

/// <summary>
/// The event loops of the epoll transport and where connections go among them. A fixed share of connections per loop
/// (round robin) is what hurts on a small machine: when the clients are the bottleneck (redis-benchmark at one request
/// per round trip needs a whole core), every extra loop that sleeps and wakes per request takes turns on the clients'
/// core. So connections are packed: a new connection goes to the first loop that is not busy, and only a loop that
/// stays busy hands part of its work to a quiet one, and loops that together have little to do give their connections
/// back to the lower loop (<see cref="LoopBalancePolicy"/>).
/// Each loop decides for its own connections at the end of its load window, on its own thread, so no connection is
/// ever touched by two threads; a moved connection is handed over through the target loop's post queue.
/// </summary>
internal sealed class EpollLoopGroup
{
    /// <summary>Load is measured over windows this long; the output timeout is checked as often.</summary>
    public const int WindowMs = 100;

    /// <summary>Windows a loop waits after moving connections, so the loads show the move before the next decision.</summary>
    public const int CooldownWindows = 3;

    public static readonly long WindowTicks = Stopwatch.Frequency * WindowMs / 1000;

    private readonly LoopBalancePolicy? _policy;
    private volatile bool _stopping;

    /// <param name="loopCount">Event-loop threads (io-threads).</param>
    /// <param name="busyPollMicroseconds">How long a loop keeps polling after a round with work before it sleeps; 0 never.</param>
    /// <param name="policy">Where connections go by load; null: every connection starts on the first loop and stays unless moved on demand (tests).</param>
    public EpollLoopGroup(int loopCount, int busyPollMicroseconds, LoopBalancePolicy? policy)
    {
        _policy = policy;
        BusyPollTicks = Stopwatch.Frequency * busyPollMicroseconds / 1_000_000;
        Loops = new EpollLoop[loopCount];
        for (var i = 0; i < loopCount; i++)
        {
            Loops[i] = new EpollLoop(this, i);
        }
    }

    public EpollLoop[] Loops { get; }

    /// <summary>Each loop's connections, load and connections moved in (INFO threads).</summary>
    public IReadOnlyList<IoThreadStats> Stats => [.. Loops.Select(l => l.Stats)];

    /// <summary>Stopwatch ticks a loop polls without sleeping after a round that had work.</summary>
    public long BusyPollTicks { get; }

    /// <summary>The loop a new connection starts on: the first that was not busy in both of its last two windows, else the least busy.</summary>
    public EpollLoop PickForNewConnection()
    {
        var least = FirstNotStuck();
        if (_policy is null)
        {
            return least;
        }

        foreach (var loop in Loops)
        {
            if (loop.IsStuck)
            {
                continue; // inside a long command: a new client there would wait for it (see EpollLoop.IsStuck)
            }

            if (loop.SteadyLoadPermille < _policy.SpreadAbovePermille)
            {
                return loop;
            }

            if (loop.SteadyLoadPermille < least.SteadyLoadPermille)
            {
                least = loop;
            }
        }

        return least;
    }

    private EpollLoop FirstNotStuck()
    {
        foreach (var loop in Loops)
        {
            if (!loop.IsStuck)
            {
                return loop;
            }
        }

        return Loops[0];
    }

    /// <summary>
    /// Loop thread of <paramref name="loop"/>, at the end of a window: moves some or all of its connections to another
    /// loop when the <see cref="LoopBalancePolicy"/> says so, by the connections' work in the window that ends. True when it
    /// moved any. <paramref name="scratch"/> is the loop's own list for the candidates.
    /// </summary>
    public bool Rebalance(EpollLoop loop, HashSet<EpollConnection> connections, List<(EpollConnection Connection, long Work)> scratch)
    {
        var decision = _stopping || _policy is null || connections.Count == 0
            ? null
            : _policy.Decide(loop.Index, loop.LoadPermille, loop.PreviousLoadPermille, [.. Loops.Select(l => l.LoadPermille)]);
        if (decision is not { } move)
        {
            return false;
        }

        var target = Loops[move.Target];
        var everything = move.Everything;
        scratch.Clear();
        long total = 0;
        foreach (var connection in connections)
        {
            var work = connection.WorkIn(loop.Window);
            if (everything || work > 0)
            {
                scratch.Add((connection, work));
                total += work;
            }
        }

        // Spreading moves about the share of the work that evens the two loads out; consolidating moves it all.
        var toMove = everything ? long.MaxValue : (long)(total * move.Share);
        long moved = 0;
        var any = false;
        foreach (var (connection, work) in scratch)
        {
            if (moved >= toMove)
            {
                break;
            }

            if (connection.TryMoveTo(target))
            {
                moved += work;
                any = true;
            }
        }

        scratch.Clear();
        return any;
    }

    /// <summary>Stops every loop (after Kestrel has closed the connections; any left are closed with them).</summary>
    public void Stop()
    {
        _stopping = true;
        foreach (var loop in Loops)
        {
            loop.BeginStop();
        }

        foreach (var loop in Loops)
        {
            loop.Join();
        }
    }
}

/// <summary>One event loop as INFO threads shows it.</summary>
/// <param name="Index">The loop's number (io_thread_N).</param>
/// <param name="Clients">Connections it serves now.</param>
/// <param name="LoadPermille">Share of the last load window it spent working, in thousandths.</param>
/// <param name="ConnectionsMovedIn">Connections other loops handed to it since the start.</param>
internal readonly record struct IoThreadStats(int Index, int Clients, int LoadPermille, long ConnectionsMovedIn);

/// <summary>
/// When a loop hands connections to another, in thousandths of a loop's time spent working. A loop busy for
/// <see cref="SpreadAbovePermille"/> in two windows running hands part of its work to the quietest loop if that one is
/// below <see cref="SpreadToBelowPermille"/>; a loop whose load plus a lower loop's stays below
/// <see cref="ConsolidateBelowPermille"/> gives that loop all its connections.
/// </summary>
internal sealed record LoopBalancePolicy(int SpreadAbovePermille = 850, int SpreadToBelowPermille = 500, int ConsolidateBelowPermille = 600)
{
    public static LoopBalancePolicy Default { get; } = new();

    /// <summary>
    /// The policy, on loads alone (thousandths): where loop <paramref name="index"/> should move connections, given its
    /// last two windows and the other loops' last loads. Null: stay. <c>Everything</c>: give them all to
    /// <c>Target</c> (consolidate); otherwise hand over about <c>Share</c> of its work (spread). Two windows must
    /// agree, so a burst (or a quiet moment) of one window moves nothing.
    /// </summary>
    public (int Target, bool Everything, double Share)? Decide(int index, int load, int previousLoad, IReadOnlyList<int> loads)
    {
        if (loads.Count < 2)
        {
            return null;
        }

        if (Math.Min(load, previousLoad) >= SpreadAbovePermille)
        {
            var least = -1;
            for (var i = 0; i < loads.Count; i++)
            {
                if (i != index && (least < 0 || loads[i] < loads[least]))
                {
                    least = i;
                }
            }

            return loads[least] < SpreadToBelowPermille ? (least, false, load > 0 ? (load - loads[least]) / (2.0 * load) : 0.5) : null;
        }

        var steadyHigh = Math.Max(load, previousLoad);
        for (var i = 0; i < index; i++)
        {
            if (loads[i] + steadyHigh < ConsolidateBelowPermille)
            {
                return (i, true, 1.0);
            }
        }

        return null;
    }
}
