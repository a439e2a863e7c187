using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading.RateLimiting;
using Calc.Epoll;
using Calc.Gateway.Balancing;

namespace Calc.Gateway.FastLane;

/// <summary>
/// One client connection on the fast lane. Each request it can forward as it is (HTTP/1.1; GET, HEAD, PUT, DELETE or
/// OPTIONS under a route; no upgrade, no Expect, no chunked body, a body small enough to replay; the client within its
/// rate limit; an instance with a closed breaker) goes to one instance over a pooled connection, with hop-by-hop
/// headers dropped and X-Forwarded-For/Proto/Host and X-Request-Id set, and the answer is relayed back. Anything else
/// (and any failure before the client got a byte of the answer) hands the connection, with the request unread, to
/// Kestrel, where the full forwarding path (<see cref="Forwarding.Forwarder"/>: retries on other instances, problem
/// details, 413/429) serves it and the rest of the connection. All of it runs on the connection's loop thread.
/// </summary>
internal sealed partial class ClientConnection : IEventTarget
{
    private const int InitialInputBytes = 4 * 1024;
    private const int OutputPauseBytes = 256 * 1024;

    private readonly EventLoop _loop;
    private readonly FastLaneServices _lane;
    private readonly Socket _socket;
    private readonly FastLaneListener _listener;
    private readonly int _fd;
    private readonly string _clientIp;
    private readonly byte[] _clientIpBytes;
    private readonly byte[] _requestId = new byte[128];
    private GCHandle _handle;
    private uint _interest;
    private bool _closed;
    private bool _readPaused;
    private long _lastActivity = Environment.TickCount64;

    private byte[] _in = new byte[InitialInputBytes];
    private int _inStart;
    private int _inEnd;
    private byte[]? _out;
    private int _outStart;
    private int _outEnd;
    private bool _closeWhenFlushed;

    // The exchange in progress: at most one per connection; pipelined requests wait in _in.
    private bool _busy;
    private int _requestLength;
    private int _requestIdLength;
    private readonly byte[] _traceParent = new byte[FastLaneTracing.Length];
    private System.Diagnostics.Activity? _span;
    private bool _isHead;
    private UpstreamInstance? _instance;
    private UpstreamConnection? _upstream;
    private RateLimitLease? _lease;
    private byte[]? _request;
    private int _requestBytes;
    private bool _responseHeadRead;
    private bool _responseStarted;
    private bool _hold;
    private int _responseHeadLength;
    private int _status;
    private BodyFraming _framing;
    private long _remaining;
    private ChunkedBodyTracker _chunked;
    private bool _upstreamKeepAlive;

    public ClientConnection(EventLoop loop, Socket socket, FastLaneListener listener)
    {
        _loop = loop;
        _listener = listener;
        _lane = loop.Lane;
        _socket = socket;
        _socket.Blocking = false;
        _socket.NoDelay = true;
        _fd = (int)socket.SafeHandle.DangerousGetHandle();
        _clientIp = (socket.RemoteEndPoint as IPEndPoint)?.Address.ToString() ?? "unknown";
        _clientIpBytes = Encoding.ASCII.GetBytes(_clientIp);
        _interest = Native.EpollIn | Native.EpollRdHup;
        _handle = loop.Register(_fd, this, _interest);
    }

    /// <summary>When the instance must have answered (loop milliseconds); watched by the loop while waiting.</summary>
    public long Deadline { get; private set; }

    /// <summary>This connection's place in its loop's list of deadlines; -1 when not there.</summary>
    public int WaitingSlot { get; set; } = -1;

    public void OnEvents(uint events)
    {
        if (_closed)
        {
            return;
        }

        if ((events & Native.EpollOut) != 0)
        {
            Flush();
        }

        if (!_closed && (events & (Native.EpollIn | Native.EpollErr | Native.EpollHup | Native.EpollRdHup)) != 0)
        {
            Receive();
        }
    }

    /// <summary>Closes the connection at once (the client sees it cut).</summary>
    public void Abort()
    {
        if (_closed)
        {
            return;
        }

        if (_busy)
        {
            EndExchange(consumeRequest: true);
            _upstream?.Close();
            _upstream = null;
        }

        Close();
    }

    public void CloseIfIdle()
    {
        if (!_busy && _outEnd == _outStart)
        {
            Close();
        }
        else
        {
            _closeWhenFlushed = true;
        }
    }

    /// <summary>Closes the connection when it has waited too long for a request (see <see cref="EventLoop"/>'s idle scan).</summary>
    public void CloseIfExpired()
    {
        if (_busy || _outEnd > _outStart)
        {
            return;
        }

        var limit = _inEnd > _inStart ? _lane.RequestHeadersMs : _lane.KeepAliveMs;
        if (_loop.Now - _lastActivity > limit)
        {
            Close();
        }
    }

    public void OnDeadline()
    {
        if (_busy && !_responseStarted)
        {
            OnUpstreamFailed("timeout", timedOut: true);
        }
        else
        {
            _loop.Unwatch(this);
        }
    }

    public void OnUpstreamConnected() => Deadline = _loop.Now + _lane.TimeoutMs;

    // ---------------------------------------------------------------- client side

    private void Receive()
    {
        if (_inEnd == _in.Length)
        {
            if (_inStart > 0)
            {
                _in.AsSpan(_inStart, _inEnd - _inStart).CopyTo(_in);
                _inEnd -= _inStart;
                _inStart = 0;
            }
            else if (_in.Length < FastLaneServices.MaxHeadBytes + _lane.MaxBodyBytes)
            {
                Array.Resize(ref _in, (int)Math.Min(_in.Length * 2L, FastLaneServices.MaxHeadBytes + _lane.MaxBodyBytes));
            }
            else if (_busy)
            {
                PauseReading(true); // a pipelined request waits until this exchange is done
                return;
            }
            else
            {
                HandOff(); // too large for the fast lane: Kestrel reads the rest
                return;
            }
        }

        var received = Native.Receive(_fd, _in.AsSpan(_inEnd));
        if (received == -1)
        {
            return;
        }

        if (received <= 0)
        {
            Abort(); // the client went away (or half-closed, which HTTP/1.1 clients do only when done)
            return;
        }

        if (_inEnd == _inStart)
        {
            _lastActivity = _loop.Now; // a new request starts: its time to arrive whole counts from here
        }

        _inEnd += (int)received;
        StartNext();
    }

    private void StartNext()
    {
        while (!_busy && !_closed && _inEnd > _inStart && _outEnd == _outStart && !_loop.Draining)
        {
            switch (TryStartExchange())
            {
                case HeadParse.NeedMore or HeadParse.Reject:
                    return;
                case HeadParse.HandOff:
                    HandOff();
                    return;
            }
        }
    }

    private void PauseReading(bool paused)
    {
        _readPaused = paused;
        UpdateInterest();
    }

    private void Flush()
    {
        while (_outStart < _outEnd)
        {
            var sent = Native.SendSome(_fd, _out.AsSpan(_outStart, _outEnd - _outStart));
            if (sent == -1)
            {
                break;
            }

            if (sent < 0)
            {
                Abort();
                return;
            }

            _outStart += (int)sent;
        }

        if (_outStart == _outEnd)
        {
            if (_out is not null)
            {
                ArrayPool<byte>.Shared.Return(_out);
                _out = null;
                _outStart = _outEnd = 0;
                _upstream?.PauseReceive(false);
            }

            if (_closeWhenFlushed && !_busy)
            {
                Close();
                return;
            }
        }
        else if (_outEnd - _outStart > OutputPauseBytes)
        {
            _upstream?.PauseReceive(true); // the client is slower than the instance: stop reading it
        }

        UpdateInterest();
        if (_outEnd == _outStart && !_busy)
        {
            if (_readPaused)
            {
                PauseReading(false);
            }

            StartNext();
        }
    }

    private void Append(ReadOnlySpan<byte> data)
    {
        if (_out is null)
        {
            _out = ArrayPool<byte>.Shared.Rent(Math.Max(4096, data.Length));
        }
        else if (_out.Length - _outEnd < data.Length)
        {
            if (_outStart > 0 && _out.Length - (_outEnd - _outStart) >= data.Length)
            {
                _out.AsSpan(_outStart, _outEnd - _outStart).CopyTo(_out);
            }
            else
            {
                var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_out.Length * 2, _outEnd - _outStart + data.Length));
                _out.AsSpan(_outStart, _outEnd - _outStart).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(_out);
                _out = larger;
            }

            _outEnd -= _outStart;
            _outStart = 0;
        }

        data.CopyTo(_out.AsSpan(_outEnd));
        _outEnd += data.Length;
    }

    private void UpdateInterest()
    {
        if (_closed)
        {
            return;
        }

        var wanted = (_readPaused ? 0 : Native.EpollIn | Native.EpollRdHup) | (_outEnd > _outStart ? Native.EpollOut : 0);
        if (wanted != _interest)
        {
            _interest = wanted;
            _loop.Modify(_fd, _handle, wanted);
        }
    }

    private void Close()
    {
        if (_closed)
        {
            return;
        }

        _closed = true;
        _loop.Unwatch(this);
        _loop.Unregister(_fd, _handle);
        _loop.Forget(this);
        _socket.Dispose();
        ReturnBuffers();
    }

    /// <summary>Kestrel takes the connection over, starting with the bytes not yet answered.</summary>
    private void HandOff()
    {
        _loop.HandedOff++;
        _closed = true;
        _loop.Unwatch(this);
        _loop.Unregister(_fd, _handle);
        _loop.Forget(this);
        _listener.HandOff(_socket, UnansweredBytes());
        ReturnBuffers();
    }

    private void ReturnBuffers()
    {
        if (_out is not null)
        {
            ArrayPool<byte>.Shared.Return(_out);
            _out = null;
        }

        if (_request is not null)
        {
            ArrayPool<byte>.Shared.Return(_request);
            _request = null;
        }
    }
}
