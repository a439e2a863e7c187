using System.Diagnostics;
using StackExchange.Redis;

namespace Calc.Cache.Tests;

/// <summary>
/// Another client of the event loop: PINGs every 10 ms from its own connection until stopped and keeps the slowest
/// answer, how long a command of the client under test held the loop (the bounded-work tests).
/// </summary>
internal sealed class PingWatch
{
    private readonly CancellationTokenSource _stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
    private Task _pinging = Task.CompletedTask;

    private PingWatch()
    {
    }

    public TimeSpan Slowest { get; private set; }

    public int Pings { get; private set; }

    public static PingWatch Start(IDatabase pinger)
    {
        var watch = new PingWatch();
        watch._pinging = Task.Run(() => watch.PingAsync(pinger), TestContext.Current.CancellationToken);
        return watch;
    }

    /// <summary>Stops after the ping in flight; throws what a ping threw.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await _pinging;
        _stop.Dispose();
    }

    private async Task PingAsync(IDatabase pinger)
    {
        while (!_stop.IsCancellationRequested)
        {
            var watch = Stopwatch.StartNew();
            (await pinger.ExecuteAsync("PING")).Text().ShouldBe("PONG");
            Slowest = watch.Elapsed > Slowest ? watch.Elapsed : Slowest;
            Pings++;
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }
    }
}
