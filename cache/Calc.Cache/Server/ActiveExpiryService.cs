namespace Calc.Cache.Server;

/// <summary>
/// Active expiry (Redis's activeExpireCycle at hz 10): every 100 ms, spend at most 25 ms deleting expired keys found
/// by sampling, so keys nobody reads again still free their memory.
/// </summary>
internal sealed class ActiveExpiryService(ServerContext server) : BackgroundService
{
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Budget = TimeSpan.FromMilliseconds(25);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period);
        var cursors = new int[server.Databases.Count];
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            // In the gate's shared mode, so no key expires in the middle of an EXEC or a script (Redis freezes
            // expiry during them too); skipped while a busy script holds the gate.
            if (server.Gate.EnterShared())
            {
                try
                {
                    server.Databases.ActiveExpireCycle(cursors, Budget);
                }
                finally
                {
                    server.Gate.ExitShared();
                }
            }
        }
    }
}
