using System.Buffers;
using System.Net.Http;
using System.Text;
using Calc.Discovery;
using Calc.Hosting;
using Polly.Timeout;
using static Calc.Gateway.FastLane.HttpHeads;

namespace Calc.Gateway.FastLane;

/// <summary>The exchange: one client request forwarded to one instance and its answer relayed back.</summary>
internal sealed partial class ClientConnection
{
    private const int MaxHeaderCount = 100;

    private bool _upstreamReused;
    private int _heldBody;

    private static bool IsForwardable(ReadOnlySpan<byte> method, out bool isHead)
    {
        isHead = method.SequenceEqual("HEAD"u8);
        // Idempotent methods only: whatever fails on the way can be sent again through the full path.
        return isHead || method.SequenceEqual("GET"u8) || method.SequenceEqual("PUT"u8)
               || method.SequenceEqual("DELETE"u8) || method.SequenceEqual("OPTIONS"u8);
    }

    private Parse TryStartExchange()
    {
        var data = _in.AsSpan(_inStart, _inEnd - _inStart);
        if (data[0] == 0x16)
        {
            return Parse.HandOff; // a TLS handshake: Kestrel's HTTPS endpoint, not plain HTTP/1.1
        }

        var headEnd = data.IndexOf(EndOfHead);
        if (headEnd < 0)
        {
            return data.Length > FastLaneServices.MaxHeadBytes ? Parse.HandOff : Parse.NeedMore;
        }

        var headLength = headEnd + 4;
        var lineEnd = data.IndexOf(Crlf);
        var line = data[..lineEnd];
        var space1 = line.IndexOf((byte)' ');
        var space2 = line.LastIndexOf((byte)' ');
        if (space1 <= 0 || space2 <= space1 + 1 || !line[(space2 + 1)..].SequenceEqual("HTTP/1.1"u8)
            || !IsForwardable(line[..space1], out var isHead))
        {
            return Parse.HandOff;
        }

        var target = line[(space1 + 1)..space2];
        var query = target.IndexOf((byte)'?');
        var path = query < 0 ? target : target[..query];
        // Origin form only, and a path Kestrel would not rewrite (no escapes, dot segments or empty segments).
        if (target[0] != (byte)'/' || !IsVisibleAscii(target) || path.IndexOfAny("%\\"u8) >= 0
            || path.IndexOf("//"u8) >= 0 || path.IndexOf("/."u8) >= 0 || _lane.Route(path) is not { } service)
        {
            return Parse.HandOff;
        }

        long contentLength = 0;
        var sawLength = false;
        var headerCount = 0;
        Span<Range> forwarded = stackalloc Range[MaxHeaderCount]; // the header lines sent on as they are
        var forwardedCount = 0;
        ReadOnlySpan<byte> host = default, forwardedFor = default, incomingId = default;
        var head = data[..(headEnd + 2)];
        for (var pos = lineEnd + 2; pos < head.Length;)
        {
            var end = head[pos..].IndexOf(Crlf);
            var field = head.Slice(pos, end);
            var fieldStart = pos;
            pos += end + 2;
            if (!TrySplit(field, out var name, out var value) || ++headerCount > MaxHeaderCount)
            {
                return Parse.HandOff;
            }

            // Hop-by-hop ones are dropped; the ones the gateway sets itself are replaced below.
            if (!IsHopByHop(name) && !NameIs(name, "host"u8) && !NameIs(name, "x-forwarded-for"u8) && !NameIs(name, "x-forwarded-proto"u8)
                && !NameIs(name, "x-forwarded-host"u8) && !NameIs(name, "x-request-id"u8))
            {
                forwarded[forwardedCount++] = new Range(fieldStart, pos); // with its CRLF
            }

            if (NameIs(name, "content-length"u8))
            {
                if (sawLength || !TryParseLength(value, out contentLength))
                {
                    return Parse.HandOff;
                }

                sawLength = true;
            }
            else if (NameIs(name, "transfer-encoding"u8) || NameIs(name, "upgrade"u8) || NameIs(name, "expect"u8)
                     || (NameIs(name, "connection"u8) && !TokensAreOnly(value, "keep-alive"u8)))
            {
                return Parse.HandOff; // chunked bodies, upgrades, 100-continue and Connection: close are Kestrel's
            }
            else if (NameIs(name, "host"u8))
            {
                if (!host.IsEmpty || !IsVisibleAscii(value))
                {
                    return Parse.HandOff;
                }

                host = value;
            }
            else if (NameIs(name, "x-forwarded-for"u8))
            {
                if (!forwardedFor.IsEmpty)
                {
                    return Parse.HandOff;
                }

                forwardedFor = value;
            }
            else if (NameIs(name, "x-request-id"u8))
            {
                incomingId = value;
            }
        }

        if (host.IsEmpty || contentLength > _lane.MaxBodyBytes)
        {
            return Parse.HandOff; // no Host is a 400 from Kestrel; a large body is its 413 or a streamed forward
        }

        if (data.Length < headLength + contentLength)
        {
            return Parse.NeedMore;
        }

        // Admission: the client's rate limit, then an instance whose breaker is closed, then a connection to it.
        if (!_lane.RateLimiting.TryAcquire(_clientIp, out var lease))
        {
            return Parse.HandOff; // Kestrel's path answers 429
        }

        var instances = _lane.Registry.Find(service);
        var instance = instances is null ? null : _lane.Balancer.Pick(instances, default);
        var upstream = instance is { IsClosed: true, FastLaneEndPoint: { } endPoint } ? _loop.RentUpstream(instance, endPoint) : null;
        if (upstream is null)
        {
            lease?.Dispose();
            return Parse.HandOff; // none registered, breakers not closed, or at the connection limit: the full path decides
        }

        if (RequestIds.IsWellFormed(incomingId))
        {
            incomingId.CopyTo(_requestId);
            _requestIdLength = incomingId.Length;
        }
        else
        {
            _loop.NewRequestId(_requestId.AsSpan(0, 32));
            _requestIdLength = 32;
        }

        BuildRequest(data, line, forwarded[..forwardedCount], instance!, host, forwardedFor, data.Slice(headLength, (int)contentLength));
        _busy = true;
        _requestLength = headLength + (int)contentLength;
        _isHead = isHead;
        _instance = instance;
        _upstream = upstream;
        _lease = lease;
        _responseHeadRead = _responseStarted = _hold = false;
        _chunked = default;
        _heldBody = 0;
        _upstreamReused = !upstream.IsConnecting;
        instance!.Begin();
        Deadline = _loop.Now + (upstream.IsConnecting ? _lane.ConnectTimeoutMs : _lane.TimeoutMs);
        _loop.Watch(this);
        upstream.Start(this, _request!, _requestBytes);
        return Parse.Ready;
    }

    private void BuildRequest(
        ReadOnlySpan<byte> data, ReadOnlySpan<byte> requestLine, ReadOnlySpan<Range> forwardedLines, Balancing.UpstreamInstance instance,
        ReadOnlySpan<byte> host, ReadOnlySpan<byte> forwardedFor, ReadOnlySpan<byte> body)
    {
        var size = data.Length + instance.Authority.Length + forwardedFor.Length + _clientIpBytes.Length + host.Length + _requestIdLength + 128;
        _request = ArrayPool<byte>.Shared.Rent(size);
        _requestBytes = 0;
        Put(requestLine);
        Put("\r\nHost: "u8);
        Put(instance.Authority);
        Put(Crlf);
        foreach (var range in forwardedLines)
        {
            Put(data[range]);
        }

        // X-Forwarded-For grows by one hop; Proto and Host describe the request as the client made it.
        Put("X-Forwarded-For: "u8);
        if (!forwardedFor.IsEmpty)
        {
            Put(forwardedFor);
            Put(", "u8);
        }

        Put(_clientIpBytes);
        Put("\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: "u8);
        Put(host);
        Put("\r\nX-Request-Id: "u8);
        Put(_requestId.AsSpan(0, _requestIdLength));
        Put("\r\n\r\n"u8);
        Put(body);
    }

    private void Put(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(_request.AsSpan(_requestBytes));
        _requestBytes += bytes.Length;
    }

    // ---------------------------------------------------------------- instance side

    public void OnUpstreamData(UpstreamConnection upstream)
    {
        if (!_busy || !ReferenceEquals(upstream, _upstream))
        {
            return;
        }

        if (!_responseHeadRead && !TryReadResponseHead(upstream))
        {
            return;
        }

        if (_hold)
        {
            // Small answers are held whole: an instance failing before its last byte is then retried elsewhere.
            var whole = _responseHeadLength + (int)_remaining;
            if (upstream.Data.Length < whole)
            {
                upstream.EnsureCapacity(whole);
                return;
            }

            WriteResponseHead(upstream.Data[.._responseHeadLength]);
            Append(upstream.Data[_responseHeadLength..whole]);
            upstream.Consume(whole);
            Finish();
            return;
        }

        if (!_responseStarted && _framing == BodyFraming.Chunked && HoldChunked(upstream))
        {
            return;
        }

        if (!_responseStarted)
        {
            WriteResponseHead(upstream.Data[.._responseHeadLength]);
            upstream.Consume(_responseHeadLength);
            _responseStarted = true;
            _loop.Unwatch(this); // the timeout covers the wait for the answer's head, as on the full path
        }

        RelayBody(upstream);
    }

    /// <summary>
    /// A chunked answer is held, like one with a length, until it is whole or over the hold limit: true while it is
    /// still held (or was relayed whole); false once it is too large to hold, and the rest streams.
    /// </summary>
    private bool HoldChunked(UpstreamConnection upstream)
    {
        var body = upstream.Data[(_responseHeadLength + _heldBody)..];
        var taken = _chunked.Advance(body);
        _heldBody += taken;
        if (_chunked.IsInvalid)
        {
            OnUpstreamFailed("the chunked body is malformed");
            return true;
        }

        if (_chunked.IsDone)
        {
            WriteResponseHead(upstream.Data[.._responseHeadLength]);
            Append(upstream.Data.Slice(_responseHeadLength, _heldBody));
            upstream.Consume(_responseHeadLength + _heldBody);
            Finish();
            return true;
        }

        if (_heldBody <= _lane.HeldResponseBytes)
        {
            return true; // wait for more (the connection's buffer grows as needed)
        }

        // Too large to hold: what came so far goes out now, the tracker goes on from where it is.
        WriteResponseHead(upstream.Data[.._responseHeadLength]);
        Append(upstream.Data.Slice(_responseHeadLength, _heldBody));
        upstream.Consume(_responseHeadLength + _heldBody);
        _responseStarted = true;
        _loop.Unwatch(this);
        Flush();
        return true;
    }

    /// <summary>The instance's connection closed (cleanly or not) during the exchange.</summary>
    public void OnUpstreamEnded(bool clean)
    {
        if (!_busy)
        {
            return;
        }

        if (clean && _responseStarted && _framing == BodyFraming.UntilClose)
        {
            _upstreamKeepAlive = false;
            Finish(); // the end of a body without a length is the end of the connection
            return;
        }

        OnUpstreamFailed(clean ? "the instance closed the connection" : "the connection was reset");
    }

    public void OnUpstreamFailed(string reason, bool timedOut = false)
    {
        var upstream = _upstream;
        _upstream = null;
        upstream?.Close();
        if (!_busy)
        {
            return;
        }

        var instance = _instance!;
        if (_responseStarted)
        {
            // The client has part of the answer already: all that is left is to let it see the answer cut short.
            Blame(instance, reason, timedOut);
            EndExchange(consumeRequest: true);
            Close();
            return;
        }

        // A kept-alive connection the instance had just closed carried nothing: not the instance's failure.
        if (!_upstreamReused || _responseHeadRead || timedOut || upstream?.ReceivedAny == true)
        {
            Blame(instance, reason, timedOut);
        }

        EndExchange(consumeRequest: false);
        HandOff(); // nothing reached the client: the full path sends the request again, to another instance first
    }

    private void Blame(Balancing.UpstreamInstance instance, string reason, bool timedOut)
    {
        instance.CountFailure();
        instance.ReportOutcome(timedOut ? new TimeoutRejectedException() : new HttpRequestException(reason));
        var line = _in.AsSpan(_inStart, Math.Max(0, _inEnd - _inStart));
        var lineEnd = line.IndexOf(Crlf);
        LogAttemptFailed(
            _lane.Logger,
            Encoding.ASCII.GetString(lineEnd > 0 ? line[..lineEnd] : line),
            instance.Entry.InstanceId,
            reason,
            Encoding.ASCII.GetString(_requestId, 0, _requestIdLength));
    }

    private bool TryReadResponseHead(UpstreamConnection upstream)
    {
        var data = upstream.Data;
        var headEnd = data.IndexOf(EndOfHead);
        if (headEnd < 0)
        {
            if (data.Length >= FastLaneServices.MaxHeadBytes)
            {
                OnUpstreamFailed("the response head is too large");
            }

            return false;
        }

        var lineEnd = data.IndexOf(Crlf);
        var line = data[..lineEnd];
        if (line.Length < 12 || !line.StartsWith("HTTP/1."u8) || line[8] != (byte)' '
            || !System.Buffers.Text.Utf8Parser.TryParse(line.Slice(9, 3), out int status, out var digits) || digits != 3 || status < 200)
        {
            // Not an HTTP/1.x final response (1xx are never asked for: no Expect, no Upgrade goes out).
            OnUpstreamFailed("the response is not valid HTTP/1.1");
            return false;
        }

        _status = status;
        _upstreamKeepAlive = line[7] == (byte)'1';
        var chunked = false;
        long length = -1;
        var head = data[..(headEnd + 2)];
        for (var pos = lineEnd + 2; pos < head.Length;)
        {
            var end = head[pos..].IndexOf(Crlf);
            var field = head.Slice(pos, end);
            pos += end + 2;
            if (!TrySplit(field, out var name, out var value))
            {
                continue;
            }

            if (NameIs(name, "content-length"u8))
            {
                if (!TryParseLength(value, out length))
                {
                    OnUpstreamFailed("the response has an invalid Content-Length");
                    return false;
                }
            }
            else if (NameIs(name, "transfer-encoding"u8))
            {
                chunked = Ascii.EqualsIgnoreCase(value, "chunked"u8);
                if (!chunked)
                {
                    _upstreamKeepAlive = false; // another coding: the body runs to the connection's end
                }
            }
            else if (NameIs(name, "connection"u8) && ContainsToken(value, "close"u8))
            {
                _upstreamKeepAlive = false;
            }
            else if (NameIs(name, "x-calc-load"u8))
            {
                ReportLoad(value);
            }
        }

        _framing = _isHead || status is 204 or 304 ? BodyFraming.None
            : chunked ? BodyFraming.Chunked
            : length >= 0 ? BodyFraming.Length
            : BodyFraming.UntilClose;
        _remaining = _framing == BodyFraming.Length ? length : 0;
        if (_framing == BodyFraming.UntilClose)
        {
            _upstreamKeepAlive = false;
        }

        _responseHeadLength = headEnd + 4;
        _responseHeadRead = true;
        if (status == 503)
        {
            // Admission control: the instance did nothing. The full path tries the others and answers for all.
            _instance!.ReportOutcome(null);
            OnUpstreamRefused();
            return false;
        }

        _hold = _framing == BodyFraming.None || (_framing == BodyFraming.Length && _remaining <= _lane.HeldResponseBytes);
        return true;
    }

    private void ReportLoad(ReadOnlySpan<byte> value)
    {
        Span<char> chars = stackalloc char[32];
        var count = Encoding.ASCII.GetChars(value[..Math.Min(value.Length, chars.Length)], chars);
        if (InstanceLoad.TryParse(chars[..count], out var load))
        {
            _instance!.ReportLoad(load);
        }
    }

    private void OnUpstreamRefused()
    {
        var upstream = _upstream;
        _upstream = null;
        upstream?.Close();
        EndExchange(consumeRequest: false);
        HandOff();
    }

    private void WriteResponseHead(ReadOnlySpan<byte> head)
    {
        var lineEnd = head.IndexOf(Crlf);
        Append("HTTP/1.1"u8);
        Append(head[8..(lineEnd + 2)]);
        var sawRequestId = false;
        for (var pos = lineEnd + 2; pos < head.Length - 2;)
        {
            var end = head[pos..].IndexOf(Crlf);
            var field = head.Slice(pos, end + 2);
            pos += end + 2;
            if (!TrySplit(field[..^2], out var name, out _) || IsHopByHop(name))
            {
                continue;
            }

            sawRequestId |= NameIs(name, "x-request-id"u8);
            Append(field);
        }

        if (_framing == BodyFraming.Chunked)
        {
            Append("Transfer-Encoding: chunked\r\n"u8); // passed through as it comes: both hops are HTTP/1.1
        }

        if (!sawRequestId)
        {
            Append("X-Request-Id: "u8);
            Append(_requestId.AsSpan(0, _requestIdLength));
            Append(Crlf);
        }

        if (_framing == BodyFraming.UntilClose)
        {
            Append("Connection: close\r\n"u8);
            _closeWhenFlushed = true;
        }

        Append(Crlf);
    }

    private void RelayBody(UpstreamConnection upstream)
    {
        var data = upstream.Data;
        int take;
        bool done;
        switch (_framing)
        {
            case BodyFraming.Length:
                take = (int)Math.Min(_remaining, data.Length);
                _remaining -= take;
                done = _remaining == 0;
                break;
            case BodyFraming.Chunked:
                take = _chunked.Advance(data);
                if (_chunked.IsInvalid)
                {
                    OnUpstreamFailed("the chunked body is malformed");
                    return;
                }

                done = _chunked.IsDone;
                break;
            case BodyFraming.UntilClose:
                take = data.Length;
                done = false;
                break;
            default:
                take = 0;
                done = true;
                break;
        }

        if (take > 0)
        {
            Append(data[..take]);
            upstream.Consume(take);
        }

        if (done)
        {
            Finish();
        }
        else
        {
            Flush();
        }
    }

    /// <summary>The whole answer is relayed (or queued for the client): the exchange is over.</summary>
    private void Finish()
    {
        var upstream = _upstream;
        _upstream = null;
        _loop.Forwarded++;
        // What the breaker counts, as on the full path: 5xx other than 503 are failures.
        _instance!.ReportOutcome(_status >= 500 ? new HttpRequestException($"The instance answered {_status}.") : null);
        EndExchange(consumeRequest: true);
        upstream?.Release(_upstreamKeepAlive);
        Flush();
    }

    private void EndExchange(bool consumeRequest)
    {
        _busy = false;
        _lastActivity = _loop.Now;
        _loop.Unwatch(this);
        _instance?.End();
        _instance = null;
        _lease?.Dispose();
        _lease = null;
        if (_request is not null)
        {
            ArrayPool<byte>.Shared.Return(_request);
            _request = null;
        }

        if (consumeRequest)
        {
            _inStart += _requestLength;
            if (_inStart >= _inEnd)
            {
                _inStart = _inEnd = 0;
            }
        }
    }

    [LoggerMessage(LogLevel.Warning, "{RequestLine} to instance {InstanceId} failed: {Reason} (request {RequestId}).")]
    private static partial void LogAttemptFailed(ILogger logger, string requestLine, string instanceId, string reason, string requestId);
}
