using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Calc.Testing;

/// <summary>
/// A small HTTP server on a fixed loopback port (real sockets) that records every request and answers as the test
/// says: a callback receiver, a data provider. It can be stopped and started again on the same port, to play a
/// receiver that is down for a while.
/// </summary>
public sealed class HttpReceiver : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly List<ReceivedRequest> _received = [];
    private WebApplication? _app;

    /// <summary>Creates the receiver (not started) on a free port of <paramref name="address"/>.</summary>
    /// <param name="address">A loopback address to listen on: 127.0.0.1, or another of 127.0.0.0/8 (Linux answers all of them).</param>
    public HttpReceiver(string address = "127.0.0.1")
    {
        Address = address;
        Port = ProcessTools.FreePort();
    }

    /// <summary>The address listened on.</summary>
    public string Address { get; }

    /// <summary>The port, the same across restarts.</summary>
    public int Port { get; }

    /// <summary>The URL of <paramref name="path"/> on this receiver.</summary>
    public string Url(string path = "/") => $"http://{Address}:{Port}{path}";

    /// <summary>How to answer a request (its status and body); by default 200 with an empty body.</summary>
    public Func<ReceivedRequest, (int Status, string Body)> Answer { get; set; } = _ => (200, "");

    /// <summary>A <c>Location</c> header to answer a request with (a redirect), or null for none (the default).</summary>
    public Func<ReceivedRequest, string?> Location { get; set; } = _ => null;

    /// <summary>Every request received so far, in order.</summary>
    public IReadOnlyList<ReceivedRequest> Received
    {
        get
        {
            lock (_gate)
            {
                return [.. _received];
            }
        }
    }

    /// <summary>Starts listening (again).</summary>
    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(Url());
        var app = builder.Build();
        app.Run(async context =>
        {
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync(context.RequestAborted);
            ReceivedRequest request;
            lock (_gate)
            {
                request = new ReceivedRequest(
                    _received.Count + 1,
                    context.Request.Method,
                    context.Request.Path + context.Request.QueryString,
                    context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
                    body);
                _received.Add(request);
            }

            var (status, answer) = Answer(request);
            context.Response.StatusCode = status;
            if (Location(request) is { } location)
            {
                context.Response.Headers.Location = location;
            }

            if (answer.Length > 0)
            {
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync(answer, context.RequestAborted);
            }
        });
        await app.StartAsync();
        _app = app;
    }

    /// <summary>Stops listening: connections are refused until <see cref="StartAsync"/>.</summary>
    public async Task StopAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    /// <summary>Waits until a request matching <paramref name="match"/> arrived, and returns it.</summary>
    public async Task<ReceivedRequest> WaitForAsync(Func<ReceivedRequest, bool> match, TimeSpan? within = null) =>
        (await Eventually.ValueAsync(() => Task.FromResult(Received.FirstOrDefault(match)), found => found is not null, within ?? TimeSpan.FromSeconds(30),
            "a matching request", _ => "received: " + string.Join("\n", Received), cancellationToken: CancellationToken.None))!;

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await StopAsync();
}

/// <summary>One request an <see cref="HttpReceiver"/> got.</summary>
/// <param name="Number">1 for the first request since the receiver was created.</param>
/// <param name="Method">The HTTP method.</param>
/// <param name="Path">Path and query.</param>
/// <param name="Headers">The request headers.</param>
/// <param name="Body">The body as text.</param>
public sealed record ReceivedRequest(int Number, string Method, string Path, IReadOnlyDictionary<string, string> Headers, string Body);
