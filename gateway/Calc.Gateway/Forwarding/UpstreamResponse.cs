using System.Buffers;

namespace Calc.Gateway.Forwarding;

/// <summary>
/// An instance's response with, optionally, the start of its body already read (up to a limit, into a pooled
/// buffer). Reading that part inside the attempt means a connection lost mid-body fails the attempt, which can then
/// be retried elsewhere, instead of a response cut short after the client got its status line.
/// </summary>
internal sealed class UpstreamResponse : IDisposable
{
    private readonly byte[]? _prefix;
    private readonly int _prefixLength;
    private readonly Stream? _rest;

    private UpstreamResponse(HttpResponseMessage message, byte[]? prefix, int prefixLength, Stream? rest)
    {
        Message = message;
        _prefix = prefix;
        _prefixLength = prefixLength;
        _rest = rest;
    }

    public HttpResponseMessage Message { get; }

    /// <summary>The whole body when it was read completely within the buffer limit; null when (part of it) streams.</summary>
    public int? CompleteLength => _prefix is not null && _rest is null ? _prefixLength : null;

    public static async ValueTask<UpstreamResponse> ReceiveAsync(HttpMessageInvoker invoker, HttpRequestMessage request, int bufferLimit, CancellationToken cancellationToken)
    {
        var message = await invoker.SendAsync(request, cancellationToken);
        if (bufferLimit <= 0 || message.Content.Headers.ContentLength > bufferLimit)
        {
            return new UpstreamResponse(message, null, 0, null);
        }

        var buffer = ArrayPool<byte>.Shared.Rent(bufferLimit);
        try
        {
            var stream = await message.Content.ReadAsStreamAsync(cancellationToken);
            var read = 0;
            int count;
            while (read < bufferLimit && (count = await stream.ReadAsync(buffer.AsMemory(read, bufferLimit - read), cancellationToken)) > 0)
            {
                read += count;
            }

            return new UpstreamResponse(message, buffer, read, read == bufferLimit ? stream : null);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            message.Dispose();
            throw;
        }
    }

    public async Task CopyBodyToAsync(Stream target, CancellationToken cancellationToken)
    {
        if (_prefix is null)
        {
            await using var stream = await Message.Content.ReadAsStreamAsync(cancellationToken);
            await stream.CopyToAsync(target, cancellationToken);
            return;
        }

        if (_prefixLength > 0)
        {
            await target.WriteAsync(_prefix.AsMemory(0, _prefixLength), cancellationToken);
        }

        if (_rest is not null)
        {
            await _rest.CopyToAsync(target, cancellationToken);
        }
    }

    public void Dispose()
    {
        if (_prefix is not null)
        {
            ArrayPool<byte>.Shared.Return(_prefix);
        }

        Message.Dispose();
    }
}
