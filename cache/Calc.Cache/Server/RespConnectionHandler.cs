using System.Buffers;
using System.IO.Pipelines;
using Calc.Cache.Commands;
using Calc.Cache.Protocol;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace Calc.Cache.Server;

/// <summary>
/// The connection loop: read, parse every complete command in the buffer, execute each, flush once per batch.
/// WARNING: replies must stay in request order; commands of one connection therefore run one after another here,
/// while different connections run in parallel (on the epoll transport's event loops, one per core, inline).
/// </summary>
internal sealed partial class RespConnectionHandler(ServerContext server, ILogger<RespConnectionHandler> logger) : ConnectionHandler
{
    /// <summary>Flush in the middle of a batch past this many reply bytes, so a long pipeline cannot buffer unbounded output.</summary>
    private const int FlushThreshold = 64 * 1024;

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        var output = connection.Transport.Output;
        if (!server.TryAdmit())
        {
            output.Write(Replies.MaxClients);
            await output.FlushAsync();
            return;
        }

        var writer = new RespWriter(output);
        var session = new RespSession(server, writer, connection.RemoteEndPoint?.ToString() ?? "?", connection.LocalEndPoint?.ToString() ?? "?");
        server.Register(session);
        var request = new RespRequest();
        var limits = server.Options.Limits;

        // On server shutdown Kestrel asks connections to close; an idle client would otherwise hold the stop for the
        // whole shutdown timeout.
        using var closing = connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested
            .Register(static state => ((PipeReader)state!).CancelPendingRead(), input);
        try
        {
            while (true)
            {
                var result = await input.ReadAsync();
                var buffer = result.Buffer;
                var close = false;
                try
                {
                    RespParseStatus status;
                    string? error;
                    while ((status = RespParser.TryParse(ref buffer, request, limits, out error)) == RespParseStatus.Complete)
                    {
                        session.Execute(request);
                        if (session.CloseRequested)
                        {
                            close = true;
                            break;
                        }

                        if (writer.Unflushed >= FlushThreshold && !await FlushAsync(output, writer))
                        {
                            connection.Abort(new ConnectionAbortedException("Client output timeout"));
                            return;
                        }
                    }

                    if (status == RespParseStatus.Error)
                    {
                        // Redis replies to a protocol error and closes only this connection.
                        writer.WriteError(error!);
                        close = true;
                    }
                }
                finally
                {
                    input.AdvanceTo(buffer.Start, buffer.End);
                }

                if (writer.Unflushed > 0 && !await FlushAsync(output, writer))
                {
                    connection.Abort(new ConnectionAbortedException("Client output timeout"));
                    return;
                }

                if (close || result.IsCompleted || result.IsCanceled)
                {
                    return;
                }
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
            server.Unregister(session);
        }
    }

    /// <summary>Flushes; false when the client has not taken its replies within the output timeout.</summary>
    private async ValueTask<bool> FlushAsync(PipeWriter output, RespWriter writer)
    {
        writer.MarkFlushed();
        var flush = output.FlushAsync();
        if (flush.IsCompletedSuccessfully)
        {
            return true; // the common case: the socket took the bytes, no timer needed
        }

        try
        {
            await flush.AsTask().WaitAsync(server.Options.ClientOutputTimeout);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Client {ClientId} failed")]
    private static partial void LogConnectionFailed(ILogger logger, long clientId, Exception exception);
}
