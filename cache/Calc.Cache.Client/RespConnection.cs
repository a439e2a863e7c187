using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;

namespace Calc.Cache.Client;

/// <summary>
/// One TCP connection shared by all callers. A single writer loop drains the outgoing queue, writes every queued
/// command and flushes once, so concurrent callers are pipelined. Replies come back in request order, so the reader
/// loop completes the oldest pending command with each reply.
/// </summary>
internal sealed class RespConnection : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly Channel<PendingCommand> _outgoing = Channel.CreateUnbounded<PendingCommand>(new UnboundedChannelOptions { SingleReader = true });

    // Invariant: commands enter _pending in exactly the order they are written to the socket (writer loop only).
    private readonly Queue<PendingCommand> _pending = new();
    private Exception? _fault;

    private RespConnection(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _input = PipeReader.Create(_stream);
        _output = PipeWriter.Create(_stream, new StreamPipeWriterOptions(leaveOpen: true));
        _ = Task.Run(WriteLoopAsync);
        _ = Task.Run(ReadLoopAsync);
    }

    public bool IsFaulted => Volatile.Read(ref _fault) is not null;

    /// <summary>Connects and runs the handshake (HELLO 2 with AUTH and SETNAME; AUTH alone on servers without HELLO).</summary>
    public static async Task<RespConnection> ConnectAsync(CacheClientOptions options, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        RespConnection? connection = null;
        try
        {
            await socket.ConnectAsync(options.Host, options.Port, timeout.Token);
            connection = new RespConnection(socket);
            var hello = new List<object> { "2" };
            if (options.Password is not null)
            {
                hello.AddRange(["AUTH", options.User ?? "default", options.Password]);
            }

            if (options.ClientName is not null)
            {
                hello.AddRange(["SETNAME", options.ClientName]);
            }

            var reply = await connection.SendAsync(Encode("HELLO", hello), timeout.Token);
            if (reply.Type == RespType.Error && reply.AsString()!.StartsWith("ERR unknown command", StringComparison.Ordinal))
            {
                // Servers older than Redis 6 have no HELLO; they speak RESP2 anyway.
                if (options.Password is not null)
                {
                    ThrowIfError(await connection.SendAsync(
                        Encode("AUTH", options.User is null ? [options.Password] : [options.User, options.Password]), timeout.Token));
                }
            }
            else
            {
                ThrowIfError(reply);
            }

            return connection;
        }
        catch (Exception ex)
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }
            else
            {
                socket.Dispose();
            }

            throw ex is CacheServerException or CacheConnectionException
                ? ex
                : new CacheConnectionException($"Cannot connect to {options.Host}:{options.Port}: {ex.Message}", ex);
        }
    }

    /// <summary>Queues an encoded command; the task completes with its reply (errors included, not thrown).</summary>
    public Task<RespValue> SendAsync(byte[] payload, CancellationToken cancellationToken)
    {
        var command = new PendingCommand(payload);
        if (!_outgoing.Writer.TryWrite(command))
        {
            return Task.FromException<RespValue>(new CacheConnectionException("Connection is closed.", _fault));
        }

        // Cancellation abandons the wait only: the command may already be on the wire, and its reply is still read.
        return cancellationToken.CanBeCanceled ? command.Reply.Task.WaitAsync(cancellationToken) : command.Reply.Task;
    }

    internal static void ThrowIfError(RespValue reply)
    {
        if (reply.Type == RespType.Error)
        {
            throw new CacheServerException(reply.AsString()!);
        }
    }

    /// <summary>Encodes a command as a RESP array of bulk strings.</summary>
    internal static byte[] Encode(string command, IReadOnlyList<object> args)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        WriteLength(buffer, (byte)'*', args.Count + 1);
        WriteBulk(buffer, Encoding.UTF8.GetBytes(command));
        foreach (var arg in args)
        {
            WriteBulk(buffer, arg switch
            {
                byte[] bytes => bytes,
                string text => Encoding.UTF8.GetBytes(text),
                long number => Encoding.ASCII.GetBytes(number.ToString(CultureInfo.InvariantCulture)),
                int number => Encoding.ASCII.GetBytes(number.ToString(CultureInfo.InvariantCulture)),
                double number => Encoding.ASCII.GetBytes(number.ToString("R", CultureInfo.InvariantCulture)),
                null => throw new ArgumentNullException(nameof(args), "Command arguments cannot be null."),
                _ => Encoding.UTF8.GetBytes(Convert.ToString(arg, CultureInfo.InvariantCulture) ?? ""),
            });
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteBulk(ArrayBufferWriter<byte> buffer, ReadOnlySpan<byte> data)
    {
        WriteLength(buffer, (byte)'$', data.Length);
        buffer.Write(data);
        buffer.Write("\r\n"u8);
    }

    private static void WriteLength(ArrayBufferWriter<byte> buffer, byte prefix, int length)
    {
        var span = buffer.GetSpan(16);
        span[0] = prefix;
        Utf8Formatter.TryFormat(length, span[1..], out var written);
        span[written + 1] = (byte)'\r';
        span[written + 2] = (byte)'\n';
        buffer.Advance(written + 3);
    }

    private async Task WriteLoopAsync()
    {
        try
        {
            var reader = _outgoing.Reader;
            while (await reader.WaitToReadAsync())
            {
                while (reader.TryRead(out var command))
                {
                    lock (_pending)
                    {
                        if (_fault is not null)
                        {
                            command.Reply.TrySetException(new CacheConnectionException("Connection is closed.", _fault));
                            continue;
                        }

                        _pending.Enqueue(command);
                    }

                    _output.Write(command.Payload);
                }

                var flush = await _output.FlushAsync();
                if (flush.IsCompleted)
                {
                    throw new CacheConnectionException("The server closed the connection.");
                }
            }
        }
        catch (Exception ex)
        {
            Fault(ex);
        }
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            while (true)
            {
                var result = await _input.ReadAsync();
                var buffer = result.Buffer;
                try
                {
                    while (RespReplyParser.TryParse(ref buffer, out var reply))
                    {
                        PendingCommand? command;
                        lock (_pending)
                        {
                            _pending.TryDequeue(out command);
                        }

                        if (command is null)
                        {
                            throw new CacheConnectionException("Protocol error: a reply arrived with no command waiting for it.");
                        }

                        command.Reply.TrySetResult(reply);
                    }
                }
                finally
                {
                    _input.AdvanceTo(buffer.Start, buffer.End);
                }

                if (result.IsCompleted)
                {
                    throw new CacheConnectionException("The server closed the connection.");
                }
            }
        }
        catch (Exception ex)
        {
            Fault(ex);
        }
    }

    private void Fault(Exception ex)
    {
        var error = ex as CacheConnectionException ?? new CacheConnectionException("Connection failed: " + ex.Message, ex);
        PendingCommand[] failed;
        lock (_pending)
        {
            if (_fault is not null)
            {
                return;
            }

            _fault = error;
            failed = [.. _pending];
            _pending.Clear();
        }

        _outgoing.Writer.TryComplete(error);
        while (_outgoing.Reader.TryRead(out var queued))
        {
            queued.Reply.TrySetException(error);
        }

        foreach (var command in failed)
        {
            command.Reply.TrySetException(error);
        }

        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        Fault(new CacheConnectionException("The client was disposed."));
        await _input.CompleteAsync();
        await _output.CompleteAsync();
        await _stream.DisposeAsync();
    }

    private sealed class PendingCommand(byte[] payload)
    {
        public byte[] Payload { get; } = payload;

        public TaskCompletionSource<RespValue> Reply { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
