using System.Net;
using Calc.Cache.Storage;
using Calc.Epoll;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Calc.Cache.Server;

/// <summary>A running cache server: Kestrel with the RESP connection handler on the configured addresses.</summary>
public sealed class CacheServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ServerContext _context;
    private readonly EpollTransportFactory? _epoll;

    private CacheServer(WebApplication app, ServerContext context, EpollTransportFactory? epoll)
    {
        _app = app;
        _context = context;
        _epoll = epoll;
    }

    /// <summary>The TCP port the server listens on (the chosen one when the option was 0).</summary>
    public int Port => _context.Port;

    /// <summary>The options in force (CONFIG SET changes them).</summary>
    public CacheServerOptions Options => _context.Options;

    /// <summary>
    /// Epoll transport only: hands every connection event loop <paramref name="from"/> serves to loop <paramref name="to"/>,
    /// as load balancing does (tests drive moves with it). Returns at once; the loops do it on their threads.
    /// </summary>
    internal void MoveConnections(int from, int to) =>
        (_epoll ?? throw new InvalidOperationException("Only the epoll transport has event loops to move connections between.")).MoveConnections(from, to);

    /// <summary>Builds and starts a server; returns once it accepts connections.</summary>
    public static async Task<CacheServer> StartAsync(CacheServerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);

        var context = new ServerContext(options);
        builder.Services.AddSingleton(context);
        builder.Services.AddHostedService<ActiveExpiryService>();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = options.ShutdownTimeout);
        builder.WebHost.UseSockets(o =>
        {
            // Output stays at the default 64 KB, so a slow reader applies backpressure.
            o.MaxReadBufferSize = options.MaxInputBytes;
            // Where the epoll transport cannot run (not Linux x64), this socket transport serves: run the connection
            // loop inline on the thread that completed the socket read instead of queueing it once more; handlers never
            // block (locks are held for one key's work), so inlining is safe.
            o.UnsafePreferInlineScheduling = true;

            // Skip the zero-byte "wait for data" receive before each read: one syscall less per request, at the
            // price of a 4 KB buffer held by each idle connection.
            o.WaitForDataBeforeAllocatingBuffer = false;
            o.IOQueueCount = options.EffectiveIoThreads;
        });
        EpollTransportFactory? epoll = null;
        if (EpollTransportFactory.IsSupported && !options.UseSocketTransport)
        {
            // Replaces the socket transport above (the last registered transport wins) on Linux x64: see EpollTransport.
            epoll = new EpollTransportFactory(options);
            builder.Services.AddSingleton<IConnectionListenerFactory>(epoll);
            context.IoThreads = () => epoll.Stats;
        }

        var listeners = new List<ListenOptions>();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            foreach (var address in ParseBind(options.Bind))
            {
                kestrel.Listen(address, options.Port, listen =>
                {
                    listeners.Add(listen);
                    listen.UseConnectionHandler<RespConnectionHandler>();
                });
            }
        });

        var app = builder.Build();
        if (options.AppendOnly)
        {
            Directory.CreateDirectory(options.Dir);
            var path = Path.Combine(options.Dir, options.AppendFileName);
            var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Calc.Cache.Persistence");
            AppendOnlyFile.Replay(path, context, logger);
            context.AppendOnlyFile = new AppendOnlyFile(path, fsync: options.AppendFsync == "everysec", context, logger);
        }

        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            epoll?.Dispose();
            throw;
        }

        context.Port = listeners.Select(l => l.IPEndPoint?.Port ?? 0).FirstOrDefault(p => p != 0);
        return new CacheServer(app, context, epoll);
    }

    /// <summary>Completes when the host stops (Ctrl+C, SIGTERM).</summary>
    public Task WaitForShutdownAsync() => _app.WaitForShutdownAsync();

    /// <summary>
    /// For the server process: once a stop is requested (SIGTERM, Ctrl+C), the process ends at most
    /// <see cref="CacheServerOptions.ShutdownTimeout"/> later, even if a command still runs on an event loop (the orderly
    /// stop waits for every connection, and a loop inside a long command cannot close its connections). The
    /// append-only file is flushed and fsynced first, if its lock frees within a second.
    /// </summary>
    public void EndProcessWhenStopHangs() =>
        _app.Lifetime.ApplicationStopping.Register(() => new Thread(() =>
        {
            Thread.Sleep(_context.Options.ShutdownTimeout);
            Console.Error.WriteLine($"Calc.Cache: not stopped {_context.Options.ShutdownTimeout.TotalSeconds:0} s after the stop request (a command is still running); exiting now.");
            _context.AppendOnlyFile?.TryFlushToDisk(TimeSpan.FromSeconds(1));
            if (OperatingSystem.IsWindows())
            {
                Environment.Exit(0);
            }

            Native.Exit(0); // not Environment.Exit: its ProcessExit handlers wait for the host, which is what hangs
        })
        { IsBackground = true, Name = "Calc.Cache shutdown watchdog" }.Start());

    /// <summary>Stops the server and closes every connection.</summary>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _epoll?.Dispose(); // after Kestrel has closed every connection
        _context.AppendOnlyFile?.Dispose();
    }

    private static IEnumerable<IPAddress> ParseBind(string bind)
    {
        foreach (var part in bind.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            yield return part == "*" ? IPAddress.Any : IPAddress.Parse(part.TrimStart('-'));
        }
    }
}
