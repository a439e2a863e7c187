using System.Buffers;
using System.Net;
using System.Runtime.CompilerServices;

namespace Calc.Gateway.Forwarding;

/// <summary>
/// An instance's response with, optionally, the start of its body already read (up to a limit, into a pooled
/// buffer). Reading that part inside the attempt means a connection lost mid-body fails the attempt, which can then
/// be retried elsewhere, instead of a response cut short after the client got its status line.
/// </summary>
/// <remarks>
/// The hot path: a response with a <c>Content-Length</c> within the limit is read exactly (into a buffer of its own
/// size, so the pooled buffers stay small and the connection goes back to the pool as soon as its last byte is read)
/// and then written to the client in one piece. A body of unknown length is read up to the limit; beyond the limit,
/// or with a declared length over it, the rest streams.
/// </remarks>
internal sealed class UpstreamResponse : IDisposable
{
    private byte[]? _prefix;
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

    // Pooled state machine: one of these runs per attempt, and it almost always completes asynchronously.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public static async ValueTask<UpstreamResponse> ReceiveAsync(HttpMessageInvoker invoker, HttpRequestMessage request, int bufferLimit, CancellationToken cancellationToken)
    {
        var message = await invoker.SendAsync(request, cancellationToken).ConfigureAwait(false);
        // Content-Length is the body's length except where there is no body to go with it (HEAD, 204, 304).
        var declared = request.Method == HttpMethod.Head || message.StatusCode is HttpStatusCode.NoContent or HttpStatusCode.NotModified
            ? null
            : message.Content.Headers.ContentLength;
        if (bufferLimit <= 0 || declared > bufferLimit)
        {
            return new UpstreamResponse(message, null, 0, null);
        }

        if (declared == 0)
        {
            return new UpstreamResponse(message, [], 0, null);
        }

        // Known length: exactly that many bytes (a shorter body fails the attempt: the instance died mid-response).
        // Unknown length (chunked): up to the limit, the rest streams.
        var size = declared is { } length ? (int)length : bufferLimit;
        var buffer = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            var stream = message.Content.ReadAsStream(cancellationToken);
            var read = 0;
            int count;
            while (read < size && (count = await stream.ReadAsync(buffer.AsMemory(read, size - read), cancellationToken).ConfigureAwait(false)) > 0)
            {
                read += count;
            }

            if (declared is not null)
            {
                if (read < size)
                {
                    throw new IOException($"The response ended after {read} of its {size} bytes.");
                }

                return new UpstreamResponse(message, buffer, read, null);
            }

            return new UpstreamResponse(message, buffer, read, read == size ? stream : null);
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
        if (_prefix is { Length: > 0 } prefix)
        {
            _prefix = null;
            ArrayPool<byte>.Shared.Return(prefix);
        }

        Message.Dispose();
    }
}
