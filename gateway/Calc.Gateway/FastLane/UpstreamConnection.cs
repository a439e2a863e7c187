using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Calc.Epoll;

namespace Calc.Gateway.FastLane;

/// <summary>
/// A keep-alive connection from one event loop to one instance. While an exchange uses it, what it receives goes to
/// that exchange's <see cref="ClientConnection"/>; while idle in the loop's pool it only watches for the instance
/// closing it. Not thread-safe: used on its loop's thread only.
/// </summary>
internal sealed class UpstreamConnection : IEventTarget
{
    private const int InitialBufferBytes = 8 * 1024;

    private readonly EventLoop _loop;
    private readonly Socket _socket;
    private readonly int _fd;
    private GCHandle _handle;
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(InitialBufferBytes);
    private int _start;
    private int _end;
    private byte[]? _request;
    private int _requestSent;
    private int _requestLength;
    private uint _interest;
    private bool _connecting;
    private bool _paused;
    private bool _closed;

    private UpstreamConnection(EventLoop loop, string poolKey, Socket socket, bool connecting)
    {
        _loop = loop;
        PoolKey = poolKey;
        _socket = socket;
        _fd = (int)socket.SafeHandle.DangerousGetHandle();
        _connecting = connecting;
        _interest = connecting ? Native.EpollOut : Native.EpollIn | Native.EpollRdHup;
        _handle = loop.Register(_fd, this, _interest);
    }

    public string PoolKey { get; }

    public bool IsOpen => !_closed;

    /// <summary>True until a connect started by <see cref="Open"/> has completed.</summary>
    public bool IsConnecting => _connecting;

    /// <summary>Whether anything arrived for the current exchange (a reused connection that got nothing may just have been closed by the instance).</summary>
    public bool ReceivedAny { get; private set; }

    /// <summary>The exchange using this connection; null while idle.</summary>
    public ClientConnection? Owner { get; private set; }

    /// <summary>Received bytes not yet taken by the exchange.</summary>
    public ReadOnlySpan<byte> Data => _buffer.AsSpan(_start, _end - _start);

    /// <summary>Starts a non-blocking connect; null when the socket could not even be created or the connect failed at once.</summary>
    public static UpstreamConnection? Open(EventLoop loop, string poolKey, IPEndPoint endPoint)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { Blocking = false, NoDelay = true };
        try
        {
            socket.Connect(endPoint);
            return new UpstreamConnection(loop, poolKey, socket, connecting: false);
        }
        catch (SocketException exception) when (exception.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress)
        {
            return new UpstreamConnection(loop, poolKey, socket, connecting: true);
        }
        catch (SocketException)
        {
            socket.Dispose();
            return null;
        }
    }

    /// <summary>Sends one request (head and body in <paramref name="request"/>) for <paramref name="owner"/>.</summary>
    public void Start(ClientConnection owner, byte[] request, int length)
    {
        Owner = owner;
        ReceivedAny = false;
        _request = request;
        _requestLength = length;
        _requestSent = 0;
        if (!_connecting)
        {
            SendRequest();
        }
    }

    /// <summary>The exchange took <paramref name="count"/> bytes of <see cref="Data"/>.</summary>
    public void Consume(int count)
    {
        _start += count;
        if (_start == _end)
        {
            _start = _end = 0;
        }
    }

    /// <summary>Makes room for a message of <paramref name="bytes"/> (head and body) to be held whole.</summary>
    public void EnsureCapacity(int bytes)
    {
        if (_buffer.Length >= bytes)
        {
            return;
        }

        var larger = ArrayPool<byte>.Shared.Rent(bytes);
        Data.CopyTo(larger);
        _end -= _start;
        _start = 0;
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = larger;
    }

    /// <summary>The exchange is done with the connection: back to the loop's pool, or closed when it cannot be reused.</summary>
    public void Release(bool reusable)
    {
        Owner = null;
        // An answer that came before the whole request went out (an early error) leaves the connection mid-request.
        var requestUnsent = _request is not null;
        _request = null;
        if (!reusable || requestUnsent || _start != _end || _paused)
        {
            Close();
            return;
        }

        _loop.ReturnUpstream(this);
    }

    /// <summary>Stops (or resumes) reading while the client has not taken what was already relayed.</summary>
    public void PauseReceive(bool paused)
    {
        _paused = paused;
        UpdateInterest();
    }

    public void OnEvents(uint events)
    {
        if (_closed)
        {
            return;
        }

        if (_connecting)
        {
            if ((events & (Native.EpollOut | Native.EpollErr | Native.EpollHup)) != 0)
            {
                FinishConnect();
            }

            return;
        }

        if ((events & Native.EpollOut) != 0 && _request is not null)
        {
            SendRequest();
        }

        if ((events & (Native.EpollIn | Native.EpollErr | Native.EpollHup | Native.EpollRdHup)) != 0 && !_paused)
        {
            Receive();
        }
    }

    /// <summary>Closes the connection and tells its exchange, if any, that it failed.</summary>
    public void Fail(string reason)
    {
        var owner = Owner;
        Close();
        owner?.OnUpstreamFailed(reason);
    }

    public void Close()
    {
        if (_closed)
        {
            return;
        }

        _closed = true;
        Owner = null;
        _loop.Unregister(_fd, _handle);
        _socket.Dispose();
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
        _start = _end = 0;
        _loop.UpstreamClosed(this);
    }

    private void FinishConnect()
    {
        var error = (int)_socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error)!;
        if (error != 0)
        {
            Fail("connection refused or unreachable");
            return;
        }

        _connecting = false;
        Owner?.OnUpstreamConnected();
        UpdateInterest();
        if (_request is not null)
        {
            SendRequest();
        }
    }

    private void SendRequest()
    {
        while (_requestSent < _requestLength)
        {
            var sent = Native.SendSome(_fd, _request.AsSpan(_requestSent, _requestLength - _requestSent));
            if (sent == -1)
            {
                break;
            }

            if (sent < 0)
            {
                Fail("the connection failed while sending");
                return;
            }

            _requestSent += (int)sent;
        }

        if (_requestSent == _requestLength)
        {
            _request = null;
        }

        UpdateInterest();
    }

    private void Receive()
    {
        if (Owner is null)
        {
            // Idle: the instance closed it (or sent something unasked for); either way it cannot be reused.
            Close();
            return;
        }

        if (_end == _buffer.Length)
        {
            if (_start > 0)
            {
                Data.CopyTo(_buffer);
                _end -= _start;
                _start = 0;
            }
            else
            {
                EnsureCapacity(_buffer.Length * 2);
            }
        }

        var received = Native.Receive(_fd, _buffer.AsSpan(_end));
        if (received == -1)
        {
            return;
        }

        if (received <= 0)
        {
            var owner = Owner;
            Close();
            owner.OnUpstreamEnded(received == 0);
            return;
        }

        _end += (int)received;
        ReceivedAny = true;
        Owner.OnUpstreamData(this);
    }

    private void UpdateInterest()
    {
        if (_closed)
        {
            return;
        }

        var wanted = _connecting ? Native.EpollOut : (_paused ? 0 : Native.EpollIn | Native.EpollRdHup) | (_request is not null ? Native.EpollOut : 0);
        if (wanted != _interest)
        {
            _interest = wanted;
            _loop.Modify(_fd, _handle, wanted);
        }
    }
}
