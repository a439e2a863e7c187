using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Calc.Cache.Tests;

/// <summary>A bare TCP connection for byte-exact protocol tests.</summary>
internal sealed class RawConnection : IAsyncDisposable
{
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;

    private RawConnection(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
    }

    /// <summary>The underlying socket, for tests that shut down, size buffers or linger on it directly.</summary>
    public Socket Socket => _client.Client;

    /// <summary>Opens a connection to the loopback port.</summary>
    public static async Task<RawConnection> OpenAsync(int port)
    {
        var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(IPAddress.Loopback, port, TestContext.Current.CancellationToken);
        return new RawConnection(client);
    }

    public async Task SendAsync(string text) => await SendAsync(Encoding.UTF8.GetBytes(text));

    public async Task SendAsync(byte[] bytes) => await _stream.WriteAsync(bytes, TestContext.Current.CancellationToken);

    /// <summary>Reads exactly <paramref name="length"/> bytes (or what arrives before EOF / <paramref name="within"/>, 5 s unless given).</summary>
    public async Task<string> ReadAsync(int length, TimeSpan? within = null) =>
        Encoding.UTF8.GetString(await ReadBytesAsync(length, within));

    /// <summary>Reads exactly <paramref name="length"/> bytes (or what arrives before EOF / <paramref name="within"/>, 5 s unless given).</summary>
    public async Task<byte[]> ReadBytesAsync(int length, TimeSpan? within = null)
    {
        var buffer = new byte[length];
        var read = 0;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(within ?? TimeSpan.FromSeconds(5));
        try
        {
            while (read < length)
            {
                var n = await _stream.ReadAsync(buffer.AsMemory(read), timeout.Token);
                if (n == 0)
                {
                    break;
                }

                read += n;
            }
        }
        catch (OperationCanceledException)
        {
        }

        return buffer[..read];
    }

    /// <summary>Everything until the server closes; throws if it stays open for 10 s.</summary>
    public async Task<string> ReadToEndAsync()
    {
        var text = new StringBuilder();
        var buffer = new byte[4096];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        int n;
        while ((n = await _stream.ReadAsync(buffer, timeout.Token)) > 0)
        {
            text.Append(Encoding.UTF8.GetString(buffer, 0, n));
        }

        return text.ToString();
    }

    /// <summary>Reads until the text received ends with <paramref name="suffix"/> (or EOF / 5 s).</summary>
    public async Task<string> ReadUntilAsync(string suffix)
    {
        var text = new StringBuilder();
        while (!text.ToString().EndsWith(suffix, StringComparison.Ordinal))
        {
            var chunk = await ReadAsync(1);
            if (chunk.Length == 0)
            {
                break;
            }

            text.Append(chunk);
        }

        return text.ToString();
    }

    /// <summary>Sends <paramref name="request"/> and reads as many bytes as <paramref name="expected"/> has.</summary>
    public async Task<string> ExchangeAsync(string request, string expected)
    {
        await SendAsync(request);
        return await ReadAsync(Encoding.UTF8.GetByteCount(expected));
    }

    /// <summary>Drains the connection; returns the bytes read before the server closed it, or -1 if it stayed open.</summary>
    public async Task<long> DrainUntilClosedAsync(TimeSpan within)
    {
        var buffer = new byte[64 * 1024];
        long total = 0;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(within);
        try
        {
            while (true)
            {
                var n = await _stream.ReadAsync(buffer, timeout.Token);
                if (n == 0)
                {
                    return total;
                }

                total += n;
            }
        }
        catch (IOException)
        {
            return total; // reset by the server counts as closed
        }
        catch (OperationCanceledException)
        {
            return -1;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _client.Dispose();
    }
}
