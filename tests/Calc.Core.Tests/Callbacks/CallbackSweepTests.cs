using System.Collections.Concurrent;
using System.Text;
using Calc.Core.Callbacks;
using Calc.Core.Hosting;
using Calc.Data;
using Calc.Data.Sqlite;
using Calc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Calc.Core.Tests.Callbacks;

/// <summary>
/// The dispatcher's sweep, on a real SQLite document store: a delivery left waiting although its work is final (the
/// process stopped between storing the final state and arming the delivery) is armed and delivered; one whose work
/// was never stored is dropped; one whose work is still running keeps waiting.
/// </summary>
public sealed class CallbackSweepTests : IAsyncLifetime
{
    private readonly TempDirectory _directory = new();
    private readonly HttpReceiver _receiver = new();
    private readonly WorkBook _work = new();
    private IHost? _host;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private CallbackOutbox Outbox => _host!.Services.GetRequiredService<CallbackOutbox>();

    public async ValueTask InitializeAsync()
    {
        await _receiver.StartAsync();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Database:Provider"] = "sqlite",
            ["Database:ConnectionString"] = $"Data Source={_directory.Combine("callbacks.db")}",
            ["Callbacks:SweepInterval"] = "00:00:00.300",
            ["Callbacks:PollInterval"] = "00:00:00.050",
            ["Callbacks:AllowedNetworks:0"] = "127.0.0.0/8",
        });
        builder.Services.AddSingleton(new ServiceIdentity("sweep-test"));
        builder.Services.AddSingleton(_work);
        builder.Services.AddDocumentStore(builder.Configuration, providers => providers.AddSqlite());
        builder.Services.AddCallbacks<BookSource>();
        _host = builder.Build();
        await _host.StartAsync(Token);
    }

    public async ValueTask DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.StopAsync(CancellationToken.None);
            _host.Dispose();
        }

        await _receiver.DisposeAsync();
        _directory.Dispose();
    }

    private Task<CallbackStatus?> WaitForStateAsync(string workId, Func<CallbackStatus?, bool> condition) =>
        Eventually.ValueAsync(() => Outbox.GetStatusAsync(workId, Token), condition, TimeSpan.FromSeconds(30), $"the callback of {workId} to reach the state",
            cancellationToken: Token);

    [Fact]
    public async Task A_waiting_delivery_whose_work_is_final_but_was_never_armed_is_armed_by_the_sweep_and_delivered()
    {
        (await Outbox.RegisterAsync("final-1", _receiver.Url("/final-1"), "req-9", null, Token)).ShouldBeTrue();
        _work.Contents["final-1"] = CallbackContent.Final(Encoding.UTF8.GetBytes("""{"id":"final-1"}"""));

        var status = await WaitForStateAsync("final-1", s => s?.State == CallbackState.Delivered);

        status!.Attempts.ShouldBe(1);
        var received = await _receiver.WaitForAsync(r => r.Path == "/final-1");
        received.Body.ShouldBe("""{"id":"final-1"}""");
        received.Headers["X-Request-Id"].ShouldBe("req-9");
    }

    [Fact]
    public async Task A_waiting_delivery_whose_work_was_never_stored_is_dropped_and_one_whose_work_runs_keeps_waiting()
    {
        await Outbox.RegisterAsync("never-stored", _receiver.Url("/never"), null, null, Token);
        await Outbox.RegisterAsync("still-running", _receiver.Url("/running"), null, null, Token);
        _work.Contents["still-running"] = CallbackContent.NotFinal;

        await WaitForStateAsync("never-stored", s => s is null);
        await Task.Delay(700, Token); // two more sweeps

        (await Outbox.GetStatusAsync("still-running", Token))!.State.ShouldBe(CallbackState.Waiting);
        _receiver.Received.ShouldBeEmpty();
        (await Outbox.RegisterAsync("still-running", _receiver.Url("/again"), null, null, Token)).ShouldBeFalse();
    }

    /// <summary>What the service would find in its store for each piece of work (absent: never stored).</summary>
    public sealed class WorkBook
    {
        public ConcurrentDictionary<string, CallbackContent> Contents { get; } = new(StringComparer.Ordinal);
    }

    private sealed class BookSource(WorkBook book) : ICallbackSource
    {
        public Task<CallbackContent> GetContentAsync(string workId, CancellationToken cancellationToken) =>
            Task.FromResult(book.Contents.TryGetValue(workId, out var content) ? content : CallbackContent.Gone);
    }
}
