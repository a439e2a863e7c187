using System.Buffers;
using System.Net.Http;
using System.Text;
using Calc.Core.Discovery;
using Calc.Core.Hosting;
using Polly.Timeout;
using static Calc.Gateway.FastLane.HttpHeads;

namespace Calc.Gateway.FastLane;

/// <summary>The exchange: one client request forwarded to one instance and its answer relayed back.</summary>
internal sealed partial class ClientConnection
{
    private bool _upstreamReused;
    private int _heldBody;

    // The Idempotency-Key this exchange attached to a PUT that had none ("gw-" and 32 hex digits), its length 0 when
    // none: also in the bytes handed to the full path should the PUT fail here, so every attempt carries one key.
    private readonly byte[] _retryKey = new byte[Forwarding.Forwarder.GatewayKeyPrefix.Length + 32];
    private int _retryKeyLength;
    private int _requestHeadLength;

    private HeadParse TryStartExchange()
    {
        _retryKeyLength = 0;
        var data = _in.AsSpan(_inStart, _inEnd - _inStart);
        Span<Range> forwarded = stackalloc Range[RequestHeadParser.MaxFields]; // the header lines sent on as they are
        var parse = RequestHeadParser.Parse(data, _lane.MaxBodyBytes, forwarded, out var head);
        if (parse == HeadParse.Reject)
        {
            Refuse(head.Refusal!);
            return parse;
        }

        if (parse != HeadParse.Parsed)
        {
            return parse;
        }

        if (_lane.Route(data[head.Path]) is not { } service)
        {
            return HeadParse.HandOff;
        }

        if (data.Length < head.Length + head.ContentLength)
        {
            return HeadParse.NeedMore;
        }

        // Admission: an instance whose breaker is closed and a connection to it, then the client's rate limit. In that
        // order, because a request handed off takes its permit on the full path: one taken here first would count
        // the request twice against the client's limit (a fixed window gives no permit back).
        var instances = _lane.Registry.Find(service);
        var instance = instances is null ? null : _lane.Balancer.Pick(instances, default);
        var upstream = instance is { IsClosed: true, FastLaneEndPoint: { } endPoint } ? _loop.RentUpstream(instance, endPoint) : null;
        if (upstream is null)
        {
            return HeadParse.HandOff; // none registered, breakers not closed, or at the connection limit: the full path decides
        }

        if (!_lane.RateLimiting.TryAcquire(_clientIp, out var lease))
        {
            upstream.Release(reusable: !upstream.IsConnecting);
            return HeadParse.HandOff; // Kestrel's path answers 429
        }

        var incomingId = data[head.RequestId];
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

        _span = FastLaneTracing.Start(data[head.TraceParent], _traceParent, _loop, service, instance!.Entry.InstanceId);
        if (_span is { IsAllDataRequested: true })
        {
            _span.SetTag(Telemetry.RequestIdTag, Encoding.ASCII.GetString(_requestId, 0, _requestIdLength));
        }

        _requestHeadLength = head.Length;
        if (head.NeedsRetryKey)
        {
            Encoding.ASCII.GetBytes(Forwarding.Forwarder.GatewayKeyPrefix, _retryKey);
            _loop.NewRequestId(_retryKey.AsSpan(Forwarding.Forwarder.GatewayKeyPrefix.Length));
            _retryKeyLength = _retryKey.Length;
        }

        BuildRequest(data, data[head.Line], forwarded[..head.ForwardedCount], instance!, data[head.Host], data[head.ForwardedFor], data.Slice(head.Length, (int)head.ContentLength));
        _busy = true;
        _requestLength = head.Length + (int)head.ContentLength;
        _isHead = head.IsHead;
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
        return HeadParse.Parsed;
    }

    /// <summary>
    /// A head <see cref="RequestHeadParser"/> rejected: 400 problem details and the connection closed once it is
    /// sent, with nothing forwarded and nothing more read, as the full path answers the same head.
    /// </summary>
    private void Refuse(string reason)
    {
        _loop.Refused++;
        var body = Encoding.ASCII.GetBytes(
            $"{{\"type\":\"https://tools.ietf.org/html/rfc9110#section-15.5.1\",\"title\":\"Bad Request\",\"status\":400,\"detail\":\"{reason}\"}}");
        Append(Encoding.ASCII.GetBytes(
            $"HTTP/1.1 400 Bad Request\r\nContent-Type: application/problem+json\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n"));
        Append(body);
        _inStart = _inEnd = 0;
        _closeWhenFlushed = true;
        PauseReading(true);
        Flush();
    }

    private void BuildRequest(
        ReadOnlySpan<byte> data, ReadOnlySpan<byte> requestLine, ReadOnlySpan<Range> forwardedLines, Balancing.UpstreamInstance instance,
        ReadOnlySpan<byte> host, ReadOnlySpan<byte> forwardedFor, ReadOnlySpan<byte> body)
    {
        var size = data.Length + instance.Authority.Length + forwardedFor.Length + _clientIpBytes.Length + host.Length + _requestIdLength + FastLaneTracing.Length + _retryKeyLength + 160;
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
        Put("\r\ntraceparent: "u8);
        Put(_traceParent);
        if (_retryKeyLength > 0)
        {
            Put("\r\nIdempotency-Key: "u8);
            Put(_retryKey.AsSpan(0, _retryKeyLength));
        }

        Put("\r\n\r\n"u8);
        Put(body);
    }

    /// <summary>
    /// The bytes not yet answered, for the full path: when this exchange's PUT got a key, its head carries it, so the
    /// full path's attempts send the key the failed one here may have had applied.
    /// </summary>
    private byte[] UnansweredBytes()
    {
        var pending = _in.AsSpan(_inStart, Math.Max(0, _inEnd - _inStart));
        if (_retryKeyLength == 0 || pending.Length < _requestHeadLength)
        {
            return pending.ToArray();
        }

        var field = "Idempotency-Key: "u8;
        var bytes = new byte[pending.Length + field.Length + _retryKeyLength + Crlf.Length];
        var headWithoutEnd = _requestHeadLength - Crlf.Length; // up to the empty line's CRLF
        pending[..headWithoutEnd].CopyTo(bytes);
        var at = headWithoutEnd;
        field.CopyTo(bytes.AsSpan(at));
        at += field.Length;
        _retryKey.AsSpan(0, _retryKeyLength).CopyTo(bytes.AsSpan(at));
        at += _retryKeyLength;
        Crlf.CopyTo(bytes.AsSpan(at));
        at += Crlf.Length;
        pending[headWithoutEnd..].CopyTo(bytes.AsSpan(at));
        return bytes;
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
        switch (ResponseHeadParser.Parse(data, _isHead, out var head))
        {
            case HeadParse.NeedMore:
                return false;
            case HeadParse.Reject:
                OnUpstreamFailed(head.Problem!);
                return false;
        }

        _status = head.Status;
        _upstreamKeepAlive = head.KeepAlive;
        _framing = head.Framing;
        _remaining = head.ContentLength;
        _responseHeadLength = head.Length;
        _responseHeadRead = true;
        if (!head.Load.Equals(default(Range)))
        {
            ReportLoad(data[head.Load]);
        }

        if (_status == 503)
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
        StopSpan(null);
        EndExchange(consumeRequest: true);
        upstream?.Release(_upstreamKeepAlive);
        Flush();
    }

    /// <summary>Ends the forward's span (if one is recorded): with an error unless the answer was relayed whole.</summary>
    private void StopSpan(string? failure)
    {
        if (_span is not { } span)
        {
            return;
        }

        _span = null;
        if (failure is not null)
        {
            span.SetStatus(System.Diagnostics.ActivityStatusCode.Error, failure);
        }
        else if (span.IsAllDataRequested)
        {
            span.SetTag("http.response.status_code", _status);
        }

        span.Stop();
    }

    private void EndExchange(bool consumeRequest)
    {
        StopSpan("the exchange did not complete on the fast lane");
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
            _retryKeyLength = 0; // answered: the next request is a new one
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
