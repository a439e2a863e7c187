using Microsoft.Extensions.Options;

namespace Calc.Gateway.Registry;

/// <summary>Rereads the registry from the cache every <see cref="RegistryOptions.RefreshMilliseconds"/>.</summary>
internal sealed class RegistryRefresher(ServiceRegistry registry, IOptions<RegistryOptions> options) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(options.Value.RefreshMilliseconds));
        do
        {
            await registry.RefreshAsync(stoppingToken);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
