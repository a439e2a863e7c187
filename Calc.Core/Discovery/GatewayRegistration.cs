using System.Net.Http.Json;
using System.Text.Json;
using Calc.Core.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Calc.Core.Discovery;

/// <summary>
/// Announces this instance to the gateway named by <c>Gateway:Url</c>: registers once the server listens, sends a
/// heartbeat with its load every <see cref="GatewayRegistrationOptions.HeartbeatSeconds"/>, and deregisters when the
/// app stops. Its base URL is <c>Service:PublicUrl</c>, or else the first address the server bound (a wildcard host
/// such as <c>0.0.0.0</c> is replaced by the machine name). Calls carry <c>Internal:Key</c>. A gateway that cannot be
/// reached is logged and tried again on the next beat; it never stops the service. Does nothing without <c>Gateway:Url</c>.
/// </summary>
public sealed partial class GatewayRegistration : IHostedLifecycleService, IDisposable
{
    private readonly GatewayRegistrationOptions _options;
    private readonly IConfiguration _configuration;
    private readonly ServiceIdentity _identity;
    private readonly IServer _server;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILoadReporter? _loadReporter;
    private readonly ILogger<GatewayRegistration> _logger;
    private readonly HttpClient _http;
    private readonly CancellationTokenSource _stopping = new();
    private Task _loop = Task.CompletedTask;
    private Uri? _baseUrl;
    private bool _registered;
    // A registration was sent, answered or not (so true whenever _registered is): the gateway may hold the entry even
    // when the reply never arrived (the stop cancelled it in flight), so stopping deregisters then too.
    private volatile bool _registrationSent;
    private bool _failing;
    private long _requestId;

    /// <summary>Creates the registration; it starts with the host.</summary>
    public GatewayRegistration(
        IOptions<GatewayRegistrationOptions> options,
        IConfiguration configuration,
        ServiceIdentity identity,
        IServer server,
        IHostApplicationLifetime lifetime,
        ILogger<GatewayRegistration> logger,
        IEnumerable<ILoadReporter> loadReporters)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loadReporters);
        _options = options.Value;
        _configuration = configuration;
        _identity = identity;
        _server = server;
        _lifetime = lifetime;
        _logger = logger;
        _loadReporter = loadReporters.LastOrDefault();
        _http = new HttpClient(new SocketsHttpHandler { UseProxy = false, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1) })
        {
            Timeout = TimeSpan.FromSeconds(_options.TimeoutSeconds),
        };
    }

    /// <inheritdoc />
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public Task StartedAsync(CancellationToken cancellationToken)
    {
        if (_options.Url is null)
        {
            return Task.CompletedTask;
        }

        if (string.IsNullOrEmpty(_configuration["Internal:Key"]))
        {
            LogNoKey(_logger, _options.Url);
        }

        // The server's addresses are known once the host has started (StartedAsync runs after the server's StartAsync).
        _baseUrl = ResolveBaseUrl();
        if (_baseUrl is null)
        {
            LogNoAddress(_logger);
            return Task.CompletedTask;
        }

        _loop = Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    /// <remarks>Deregisters before the other services stop, so the gateway stops sending requests first.</remarks>
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
            // The loop ends by cancellation.
        }

        if (_registrationSent && _options.Url is not null)
        {
            try
            {
                await CallAsync(RegistryRpc.Deregister, new InstanceReference(_identity.ServiceName, _identity.InstanceId), cancellationToken);
                LogDeregistered(_logger, _options.Url);
            }
            catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException or JsonException or RegistrationRefusedException)
            {
                // The entry expires by its TTL anyway.
                LogDeregisterFailed(_logger, _options.Url, exception.Message);
            }
        }
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public void Dispose()
    {
        _stopping.Dispose();
        _http.Dispose();
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(_options.HeartbeatSeconds));
        do
        {
            await BeatAsync(cancellationToken);
        }
        while (await timer.WaitForNextTickAsync(cancellationToken));
    }

    private async Task BeatAsync(CancellationToken cancellationToken)
    {
        var load = _loadReporter?.Current() ?? new InstanceLoad(0, 0);
        var announcement = new InstanceAnnouncement(_identity.ServiceName, _identity.InstanceId, _baseUrl!, load.Capacity, load.Processing);
        // Each beat is its own small trace (a root span, not under whatever started the loop).
        using var activity = Hosting.Telemetry.Discovery.StartFrom(_registered ? "registry heartbeat" : "registry register", System.Diagnostics.ActivityKind.Internal, traceParent: null);
        try
        {
            _registrationSent = true;
            await CallAsync(_registered ? RegistryRpc.Heartbeat : RegistryRpc.Register, announcement, cancellationToken);
            if (!_registered || _failing)
            {
                LogRegistered(_logger, _identity.ServiceName, _identity.InstanceId, _baseUrl!, _options.Url!);
            }

            _registered = true;
            _failing = false;
        }
        catch (Exception exception) when (exception is HttpRequestException or JsonException or RegistrationRefusedException
                                              || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            activity.Fail(exception.Message);
            // Logged once per streak of failures: a gateway down for an hour must not write 1200 warnings.
            if (!_failing)
            {
                LogBeatFailed(_logger, _options.Url!, exception.Message);
            }

            _failing = true;
        }
    }

    private async Task CallAsync<TParams>(string method, TParams parameters, CancellationToken cancellationToken)
    {
        var id = Interlocked.Increment(ref _requestId);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_options.Url!, RegistryRpc.Path))
        {
            Content = JsonContent.Create(new { jsonrpc = "2.0", method, @params = parameters, id }, options: RegistryRpc.JsonOptions),
        };
        request.Headers.Add(RegistryRpc.KeyHeader, _configuration["Internal:Key"] ?? "");
        using var response = await _http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new RegistrationRefusedException($"{method}: HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
        }

        var reply = await response.Content.ReadFromJsonAsync<JsonRpcResponse>(RegistryRpc.JsonOptions, cancellationToken);
        if (reply?.Error is { } error)
        {
            throw new RegistrationRefusedException($"{method}: {error.Code} {error.Message}");
        }
    }

    private Uri? ResolveBaseUrl()
    {
        var configured = _configuration["Service:PublicUrl"];
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return new Uri(configured);
        }

        var address = _server.Features.Get<IServerAddressesFeature>()?.Addresses
            .OrderBy(a => a.StartsWith("https:", StringComparison.OrdinalIgnoreCase) ? 1 : 0)
            .FirstOrDefault();
        if (address is null)
        {
            return null;
        }

        // "http://0.0.0.0:8080", "http://[::]:8080", "http://+:8080", "http://*:8080": reachable under the machine's name.
        var hostStart = address.IndexOf("://", StringComparison.Ordinal) + 3;
        var hostEnd = address.LastIndexOf(':');
        var host = address[hostStart..hostEnd];
        if (host is "0.0.0.0" or "[::]" or "+" or "*")
        {
            address = address[..hostStart] + Environment.MachineName + address[hostEnd..];
        }

        return new Uri(address);
    }

    [LoggerMessage(LogLevel.Warning, "Gateway:Url is {Gateway} but Internal:Key is not set: the gateway will refuse this instance's registration.")]
    private static partial void LogNoKey(ILogger logger, Uri gateway);

    [LoggerMessage(LogLevel.Warning, "Not registering with the gateway: the server has no address; set Service:PublicUrl.")]
    private static partial void LogNoAddress(ILogger logger);

    [LoggerMessage(LogLevel.Information, "Registered {Service} instance {InstanceId} at {BaseUrl} with the gateway {Gateway}.")]
    private static partial void LogRegistered(ILogger logger, string service, string instanceId, Uri baseUrl, Uri gateway);

    [LoggerMessage(LogLevel.Warning, "Could not reach the gateway {Gateway}: {Reason}. Retrying every heartbeat.")]
    private static partial void LogBeatFailed(ILogger logger, Uri gateway, string reason);

    [LoggerMessage(LogLevel.Information, "Deregistered from the gateway {Gateway}.")]
    private static partial void LogDeregistered(ILogger logger, Uri gateway);

    [LoggerMessage(LogLevel.Warning, "Could not deregister from the gateway {Gateway}: {Reason}. The entry will expire by its TTL.")]
    private static partial void LogDeregisterFailed(ILogger logger, Uri gateway, string reason);

    private sealed class RegistrationRefusedException(string message) : Exception(message);
}
