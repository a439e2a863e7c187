using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;

namespace Calc.AppHost;

/// <summary>
/// Stops the apps in order (<see cref="LaunchedSystem.StopInOrderAsync"/>) as the host begins to stop (SIGINT, SIGTERM
/// or a failed start), before any hosted service stops: Aspire's orchestration stops what is left (the Aspire dashboard)
/// only after that. A second signal kills the apps at once.
/// </summary>
internal sealed class OrderedStop(IHostApplicationLifetime application, LaunchedSystem system) : IHostedLifecycleService, IDisposable
{
    private readonly List<PosixSignalRegistration> _registrations = [];
    private int _signals;

    /// <summary>Stops the host, and with it the apps in order (for a start that failed).</summary>
    public void RequestStop() => application.StopApplication();

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        // Next to the host's own handlers (which begin the stop): counts the signals, and kills on the second.
        _registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal));
        _registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal));
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => system.StopInOrderAsync();

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }
    }

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        if (Interlocked.Increment(ref _signals) == 1)
        {
            system.Log.Info($"{context.Signal} received: stopping (again to kill at once)");
            application.StopApplication();
        }
        else
        {
            system.Log.Info("killing the apps now");
            system.KillAll();
        }
    }
}
