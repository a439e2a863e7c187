using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Calc.Gateway.Tests;

/// <summary>
/// A loopback relay in front of a RESP server that keeps a copy of every byte both ways, so a test sees which commands
/// a client really sent (its handshake included) and whether the server answered any of them with an error.
/// </summary>
internal sealed class RespTap : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<(MemoryStream Sent, MemoryStream Received)> _connections = [];
    private readonly List<Task> _relays = [];
    private readonly Task _accepting;

    public RespTap(int targetPort)
    {
        _targetPort = targetPort;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary><c>127.0.0.1:port</c> of the relay, the form of <c>Cache:Endpoint</c>.</summary>
    public string Endpoint => string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");

    /// <summary>How many connections the client opened through the relay.</summary>
    public int Connections
    {
        get
        {
            lock (_connections)
            {
                return _connections.Count;
            }
        }
    }

    /// <summary>Each command sent so far on any connection: its name, and for container commands its subcommand (<c>CLIENT SETNAME</c>).</summary>
    public IReadOnlyList<string> Commands() =>
        [.. Parse(s => s.Sent).OfType<List<object?>>().Where(c => c.Count > 0).Select(c =>
        {
            var name = ((string)c[0]!).ToUpperInvariant();
            return c.Count > 1 && name is "CLIENT" or "CONFIG" or "INFO" ? $"{name} {((string?)c[1])?.ToUpperInvariant()}" : name;
        })];

    /// <summary>Every error reply the server sent so far on any connection, at any depth of a reply.</summary>
    public IReadOnlyList<string> Errors()
    {
        var errors = new List<string>();
        foreach (var reply in Parse(s => s.Received))
        {
            Collect(reply, errors);
        }

        return errors;

        static void Collect(object? value, List<string> errors)
        {
            if (value is RespError error)
            {
                errors.Add(error.Text);
            }
            else if (value is List<object?> items)
            {
                items.ForEach(item => Collect(item, errors));
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        Task[] relays;
        lock (_connections)
        {
            relays = [.. _relays];
        }

        await Task.WhenAll(relays);
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (true)
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

            lock (_connections)
            {
                _relays.Add(RelayAsync(client));
            }
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        using var _ = client;
        using var server = new TcpClient { NoDelay = true };
        client.NoDelay = true;
        try
        {
            await server.ConnectAsync(IPAddress.Loopback, _targetPort, _stop.Token);
        }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException)
        {
            return;
        }

        var sent = new MemoryStream();
        var received = new MemoryStream();
        lock (_connections)
        {
            _connections.Add((sent, received));
        }

        // Either side closing ends the relay; disposing both sockets then ends the other pump.
        await Task.WhenAny(PumpAsync(client.GetStream(), server.GetStream(), sent), PumpAsync(server.GetStream(), client.GetStream(), received));
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to, MemoryStream copy)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await from.ReadAsync(buffer, _stop.Token)) > 0)
            {
                lock (copy)
                {
                    copy.Write(buffer, 0, read);
                }

                await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        }
        catch (Exception exception) when (exception is IOException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    private List<object?> Parse(Func<(MemoryStream Sent, MemoryStream Received), MemoryStream> direction)
    {
        List<byte[]> streams;
        lock (_connections)
        {
            streams = [.. _connections.Select(c =>
            {
                var stream = direction(c);
                lock (stream)
                {
                    return stream.ToArray();
                }
            })];
        }

        var values = new List<object?>();
        foreach (var bytes in streams)
        {
            var position = 0;
            while (position < bytes.Length && TryRead(bytes, ref position, out var value))
            {
                values.Add(value);
            }
        }

        return values;
    }

    /// <summary>Reads one RESP2 value (a trailing partial value, or a type it does not know, stops the reading).</summary>
    private static bool TryRead(byte[] bytes, ref int position, out object? value)
    {
        value = null;
        var end = Array.IndexOf(bytes, (byte)'\n', position);
        if (end < 0 || end - 1 <= position || bytes[end - 1] != '\r')
        {
            return false;
        }

        var type = (char)bytes[position];
        var line = Encoding.UTF8.GetString(bytes, position + 1, end - 1 - (position + 1));
        var next = end + 1;
        switch (type)
        {
            case '+':
                value = line;
                break;
            case '-':
                value = new RespError(line);
                break;
            case ':':
                value = long.Parse(line, CultureInfo.InvariantCulture);
                break;
            case '$':
                var length = int.Parse(line, CultureInfo.InvariantCulture);
                if (length >= 0)
                {
                    if (next + length + 2 > bytes.Length)
                    {
                        return false;
                    }

                    value = Encoding.UTF8.GetString(bytes, next, length);
                    next += length + 2;
                }

                break;
            case '*':
                var count = int.Parse(line, CultureInfo.InvariantCulture);
                if (count >= 0)
                {
                    var items = new List<object?>(count);
                    for (var i = 0; i < count; i++)
                    {
                        if (!TryRead(bytes, ref next, out var item))
                        {
                            return false;
                        }

                        items.Add(item);
                    }

                    value = items;
                }

                break;
            default:
                return false;
        }

        position = next;
        return true;
    }

    private sealed record RespError(string Text);
}
