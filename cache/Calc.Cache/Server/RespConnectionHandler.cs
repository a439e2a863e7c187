using System.Buffers;
using System.IO.Pipelines;
using Calc.Cache.Commands;
using Calc.Cache.Protocol;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace Calc.Cache.Server;

/// <summary>
/// Serves one client: admits it (maxclients), creates its session, and runs the command loop, either directly on the
/// epoll transport's event loop (<see cref="IDirectConnectionFeature"/>: no pipes, no async per request) or over the
/// connection's pipes (Kestrel's socket transport). Both run the same <see cref="RespCommandBatch"/> step.
/// WARNING: replies must stay in request order; commands of one connection therefore run one after another, while
/// different connections run in parallel.
/// </summary>
internal sealed partial class RespConnectionHandler(ServerContext server, ILogger<RespConnectionHandler> logger) : ConnectionHandler
{
    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var direct = connection.Features.Get<IDirectConnectionFeature>();
        if (!server.TryAdmit())
        {
            if (direct is not null)
            {
                direct.Output.Write(Replies.MaxClients);
                await direct.RunAsync(null);
            }
            else
            {
                connection.Transport.Output.Write(Replies.MaxClients);
                await connection.Transport.Output.FlushAsync();
            }

            return;
        }

        var writer = new RespWriter(direct?.Output ?? connection.Transport.Output);
        var session = new RespSession(server, writer, connection.RemoteEndPoint?.ToString() ?? "?", connection.LocalEndPoint?.ToString() ?? "?");
        server.Register(session);
        var batch = new RespCommandBatch(session, writer, server);
        using var woken = new SemaphoreSlim(0); // pipes only: released once per blocked command that got its answer
        session.WakeBlocked = direct is not null ? direct.WakeBlocked : () => WakePipes(woken);
        var pushWake = new PushWake();
        if (direct is not null)
        {
            session.WakeForPushes = direct.RequestPush;
        }
        else
        {
            session.WakeForPushes = () =>
            {
                Volatile.Write(ref pushWake.Pending, 1);
                connection.Transport.Input.CancelPendingRead();
            };
        }

        session.CloseForOutputLimit = () => connection.Abort(new ConnectionAbortedException("pubsub output buffer limit"));

        // On server shutdown Kestrel asks connections to close; an idle client would otherwise hold the stop for the
        // whole shutdown timeout.
        using var closing = connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested.Register(
            static state =>
            {
                if (state is IDirectConnectionFeature direct)
                {
                    direct.RequestClose();
                }
                else
                {
                    ((PipeReader)state!).CancelPendingRead();
                }
            },
            direct ?? (object)connection.Transport.Input);
        try
        {
            if (direct is not null)
            {
                await direct.RunAsync(batch);
            }
            else
            {
                await RunOverPipesAsync(connection, batch, writer, woken, pushWake);
            }
        }
        catch (ConnectionResetException)
        {
            // The client went away; nothing to answer.
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogConnectionFailed(logger, session.Id, ex);
        }
        finally
        {
            session.CancelBlocked();
            session.Closed();
            server.Unregister(session);
        }
    }

    /// <summary>The loop over pipes: read, run the batch, flush once per batch (and whenever the batch asks to).</summary>
    private static async Task RunOverPipesAsync(ConnectionContext connection, RespCommandBatch batch, RespWriter writer, SemaphoreSlim woken,
        PushWake pushWake)
    {
        var closeRequested = connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested ?? default;
        var input = connection.Transport.Input;
        var output = connection.Transport.Output;
        var blocked = false;
        while (true)
        {
            ReadResult result;
            var resumed = false;
            if (blocked)
            {
                // A command blocks: its later commands stay unread in the pipe, but a hang-up ends the wait.
                var wake = woken.WaitAsync();
                while (true)
                {
                    var read = input.ReadAsync().AsTask();
                    if (await Task.WhenAny(read, wake) == wake)
                    {
                        input.CancelPendingRead(); // the pending read returns what is buffered, to be run now
                        result = await read;
                        break;
                    }

                    result = await read;
                    if (result.IsCanceled && IsPushWake(result, pushWake, closeRequested))
                    {
                        // Pub/sub messages for a blocked RESP3 client wait in its queue until the blocked command
                        // is answered; the batch after it writes them.
                        input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
                        continue;
                    }

                    if (result.IsCompleted || result.IsCanceled)
                    {
                        return;
                    }

                    input.AdvanceTo(result.Buffer.Start, result.Buffer.End); // nothing consumed: wait for more or the wake
                }

                blocked = false;
                resumed = true;
                batch.ResumeBlocked();
                if (!await FlushAsync(output, batch)) // before the batch below, which counts its own replies only
                {
                    connection.Abort(new ConnectionAbortedException("Client output timeout"));
                    return;
                }
            }
            else
            {
                result = await input.ReadAsync();
            }

            var buffer = result.Buffer;
            BatchStatus status;
            try
            {
                while ((status = batch.Process(ref buffer)) == BatchStatus.SendFirst)
                {
                    if (!await FlushAsync(output, batch))
                    {
                        connection.Abort(new ConnectionAbortedException("Client output timeout"));
                        return;
                    }
                }
            }
            finally
            {
                input.AdvanceTo(buffer.Start, buffer.End);
            }

            if (writer.Unflushed > 0 && !await FlushAsync(output, batch))
            {
                connection.Abort(new ConnectionAbortedException("Client output timeout"));
                return;
            }

            if (status == BatchStatus.Blocked)
            {
                blocked = true;
                continue;
            }

            if (result.IsCanceled && !resumed && IsPushWake(result, pushWake, closeRequested) && status != BatchStatus.Close)
            {
                continue; // woken for pub/sub messages (the batch wrote them), not to close
            }

            if (status == BatchStatus.Close || result.IsCompleted || (result.IsCanceled && !resumed))
            {
                return;
            }
        }
    }

    private static bool IsPushWake(ReadResult result, PushWake pushWake, CancellationToken closeRequested) =>
        !result.IsCompleted && !closeRequested.IsCancellationRequested && Interlocked.Exchange(ref pushWake.Pending, 0) == 1;

    // A timeout can fire just as the connection ends and the semaphore is disposed: that wake has nobody to wake.
    private static void WakePipes(SemaphoreSlim woken)
    {
        try
        {
            woken.Release();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>Flushes; false when the client has not taken its replies within the output timeout.</summary>
    private static async ValueTask<bool> FlushAsync(PipeWriter output, RespCommandBatch batch)
    {
        var flush = output.FlushAsync();
        if (flush.IsCompletedSuccessfully)
        {
            return true; // the common case: the socket took the bytes, no timer needed
        }

        try
        {
            await flush.AsTask().WaitAsync(batch.OutputTimeout);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Client {ClientId} failed")]
    private static partial void LogConnectionFailed(ILogger logger, long clientId, Exception exception);

    /// <summary>Set when a read was cancelled to write pub/sub messages (the pipe path), not to close.</summary>
    private sealed class PushWake
    {
        public int Pending;
    }
}
