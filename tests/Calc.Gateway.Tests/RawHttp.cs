using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Calc.Gateway.Tests;

/// <summary>A request as a <see cref="RawInstance"/> received it: the request line's parts, every header line, the body.</summary>
public sealed record RawRequest(int Connection, string Method, string Target, IReadOnlyList<KeyValuePair<string, string>> Headers, byte[] Body)
{
    public string? Header(string name) => Headers.FirstOrDefault(h => h.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;

    public bool Has(string name) => Headers.Any(h => h.Key.Equals(name, StringComparison.OrdinalIgnoreCase));
}

/// <summary>What a <see cref="RawInstance"/> does with a request: bytes to send (in pieces of <see cref="Piece"/> bytes), then maybe close.</summary>
public sealed record RawReply(byte[] Bytes, bool Close = false, int Piece = 0)
{
    public static RawReply Text(int status, string body, params string[] headers) => new(Encoding.ASCII.GetBytes(
        $"HTTP/1.1 {status} {(HttpStatusCode)status}\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\n{string.Concat(headers.Select(h => h + "\r\n"))}\r\n{body}"));

    public static RawReply Raw(string text, bool close = false, int piece = 0) => new(Encoding.ASCII.GetBytes(text), close, piece);

    /// <summary>Closes the connection without answering.</summary>
    public static RawReply Drop { get; } = new([], Close: true);
}

/// <summary>
/// A stand-in instance speaking HTTP/1.1 straight from a socket on loopback, so a test decides every byte the gateway
/// gets back (chunked bodies, no length, a dropped connection, a 503) and sees every byte the gateway sent.
/// </summary>
public sealed class RawInstance : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _clients = [];
    private int _connections;
    private Task _accepting = Task.CompletedTask;

    public RawInstance()
    {
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync();
    }

    public int Port { get; }

    public Uri BaseUrl => new($"http://127.0.0.1:{Port}");

    /// <summary>How the instance answers; by default 200 with the request target as the body.</summary>
    public Func<RawRequest, RawReply> Script { get; set; } = r => RawReply.Text(200, r.Target);

    public ConcurrentQueue<RawRequest> Received { get; } = new();

    public int Connections => Volatile.Read(ref _connections);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        lock (_clients)
        {
            foreach (var client in _clients)
            {
                client.Dispose();
            }
        }

        await _accepting;
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            client.NoDelay = true;
            lock (_clients)
            {
                _clients.Add(client);
            }

            _ = ServeAsync(client, Interlocked.Increment(ref _connections));
        }
    }

    private async Task ServeAsync(TcpClient client, int connection)
    {
        using var _ = client;
        var stream = client.GetStream();
        var reader = new RawReader(stream);
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var head = await reader.ReadHeadAsync(_stop.Token);
                if (head is null)
                {
                    return;
                }

                var lines = head.Split("\r\n");
                var parts = lines[0].Split(' ');
                var headers = lines.Skip(1).Where(l => l.Length > 0)
                    .Select(l => new KeyValuePair<string, string>(l[..l.IndexOf(':')], l[(l.IndexOf(':') + 1)..].Trim())).ToList();
                var length = headers.FirstOrDefault(h => h.Key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)).Value;
                var body = await reader.ReadBytesAsync(length is null ? 0 : int.Parse(length, System.Globalization.CultureInfo.InvariantCulture), _stop.Token);
                var request = new RawRequest(connection, parts[0], parts[1], headers, body);
                Received.Enqueue(request);
                var reply = Script(request);
                if (reply.Piece <= 0)
                {
                    await stream.WriteAsync(reply.Bytes, _stop.Token);
                }
                else
                {
                    for (var i = 0; i < reply.Bytes.Length; i += reply.Piece)
                    {
                        await stream.WriteAsync(reply.Bytes.AsMemory(i, Math.Min(reply.Piece, reply.Bytes.Length - i)), _stop.Token);
                        await Task.Delay(2, _stop.Token);
                    }
                }

                if (reply.Close)
                {
                    return;
                }
            }
        }
        catch (Exception exception) when (exception is IOException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }
}

/// <summary>Reads HTTP/1.1 messages from a stream: heads up to the empty line, bodies by length, chunked or to the end.</summary>
public sealed class RawReader(Stream stream)
{
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    /// <summary>The head (start line and header lines, without the empty line); null at the end of the stream.</summary>
    public Task<string?> ReadHeadAsync(CancellationToken cancellationToken) => ReadUntilAsync("\r\n\r\n"u8.ToArray(), cancellationToken);

    public async Task<byte[]> ReadBytesAsync(int count, CancellationToken cancellationToken)
    {
        var result = new byte[count];
        var done = 0;
        while (done < count)
        {
            if (_start == _end && !await FillAsync(cancellationToken))
            {
                throw new IOException($"The stream ended after {done} of {count} bytes.");
            }

            var take = Math.Min(count - done, _end - _start);
            _buffer.AsSpan(_start, take).CopyTo(result.AsSpan(done));
            _start += take;
            done += take;
        }

        return result;
    }

    /// <summary>A response: status, headers (name, value in order) and the body, decoded from its framing.</summary>
    public async Task<RawResponse> ReadResponseAsync(bool headRequest = false, CancellationToken cancellationToken = default)
    {
        var head = await ReadHeadAsync(cancellationToken) ?? throw new IOException("The connection closed before a response.");
        var lines = head.Split("\r\n");
        var status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var headers = lines.Skip(1).Select(l => new KeyValuePair<string, string>(l[..l.IndexOf(':')], l[(l.IndexOf(':') + 1)..].Trim())).ToList();
        string? Get(string name) => headers.FirstOrDefault(h => h.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;
        byte[] body;
        if (headRequest || status is 204 or 304)
        {
            body = [];
        }
        else if (Get("Transfer-Encoding") is { } coding && coding.Equals("chunked", StringComparison.OrdinalIgnoreCase))
        {
            using var collected = new MemoryStream();
            while (true)
            {
                var sizeLine = await ReadLineAsync(cancellationToken);
                var size = Convert.ToInt32(sizeLine.Split(';')[0].Trim(), 16);
                if (size == 0)
                {
                    while ((await ReadLineAsync(cancellationToken)).Length > 0)
                    {
                        // trailer fields: ignored
                    }

                    break;
                }

                collected.Write(await ReadBytesAsync(size, cancellationToken));
                await ReadLineAsync(cancellationToken);
            }

            body = collected.ToArray();
        }
        else if (Get("Content-Length") is { } length)
        {
            body = await ReadBytesAsync(int.Parse(length, System.Globalization.CultureInfo.InvariantCulture), cancellationToken);
        }
        else
        {
            using var collected = new MemoryStream();
            collected.Write(_buffer, _start, _end - _start);
            _start = _end;
            await stream.CopyToAsync(collected, cancellationToken);
            body = collected.ToArray();
        }

        return new RawResponse(status, headers, body);
    }

    private async Task<string> ReadLineAsync(CancellationToken cancellationToken) =>
        await ReadUntilAsync("\r\n"u8.ToArray(), cancellationToken) ?? throw new IOException("The stream ended inside a line.");

    /// <summary>The text before <paramref name="delimiter"/> (which is consumed too); null when the stream ends first.</summary>
    private async Task<string?> ReadUntilAsync(byte[] delimiter, CancellationToken cancellationToken)
    {
        while (true)
        {
            var index = _buffer.AsSpan(_start, _end - _start).IndexOf(delimiter);
            if (index >= 0)
            {
                var text = Encoding.ASCII.GetString(_buffer, _start, index);
                _start += index + delimiter.Length;
                return text;
            }

            if (!await FillAsync(cancellationToken))
            {
                return null;
            }
        }
    }

    private async Task<bool> FillAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }

        var read = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
        _end += read;
        return read > 0;
    }
}

/// <summary>A response read by <see cref="RawReader"/>.</summary>
public sealed record RawResponse(int Status, IReadOnlyList<KeyValuePair<string, string>> Headers, byte[] Body)
{
    public string Text => Encoding.UTF8.GetString(Body);

    public string? Header(string name) => Headers.FirstOrDefault(h => h.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;

    public bool Has(string name) => Headers.Any(h => h.Key.Equals(name, StringComparison.OrdinalIgnoreCase));
}
