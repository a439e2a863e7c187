using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Calc.Epoll;

/// <summary>
/// The kernel side of one event loop: an epoll instance, the buffer its events are read into, and an eventfd that
/// other threads write to wake the loop. The eventfd is registered with data 0, so the loop reads an event with data 0
/// as "woken" (<see cref="ConsumeWake"/>) and any other data as its own registration (a GCHandle, never 0).
/// Everything but <see cref="Wake"/> is for the loop thread.
/// </summary>
internal sealed unsafe class EpollInstance
{
    /// <summary>Events read per <see cref="Wait"/> at the most.</summary>
    public const int MaxEvents = 256;

    private readonly int _epoll;
    private readonly Lock _wakeGate = new();
    private int _wakeFd;
    private Native.EpollEvent* _events;

    public EpollInstance()
    {
        _epoll = Native.EpollCreate1(Native.EpollCloexec);
        _wakeFd = Native.EventFd(0, Native.EfdNonBlock | Native.EfdCloexec);
        if (_epoll < 0 || _wakeFd < 0)
        {
            throw new SocketException(Marshal.GetLastPInvokeError());
        }

        Control(_wakeFd, 0, Native.EpollCtlAdd, Native.EpollIn);
        _events = (Native.EpollEvent*)NativeMemory.Alloc(MaxEvents, (nuint)sizeof(Native.EpollEvent));
    }

    /// <summary>True where the loops can run: Linux on x64 (the packed <c>epoll_event</c> layout of <see cref="Native.EpollEvent"/>).</summary>
    public static bool IsSupported => OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64;

    /// <summary>The events the last <see cref="Wait"/> read.</summary>
    public Native.EpollEvent* Events => _events;

    /// <summary>Adds, changes or removes (<paramref name="op"/>) the watch on <paramref name="fd"/>; <paramref name="data"/> comes back with its events.</summary>
    public void Control(int fd, ulong data, int op, uint events)
    {
        var ev = new Native.EpollEvent { Events = events, Data = data };
        _ = Native.EpollCtl(_epoll, op, fd, &ev);
    }

    /// <summary>Waits up to <paramref name="timeoutMs"/> (0: not at all, -1: for ever) and returns how many <see cref="Events"/> it read.</summary>
    public int Wait(int timeoutMs) => Native.EpollWait(_epoll, _events, MaxEvents, timeoutMs);

    /// <summary>Any thread: makes the loop's next <see cref="Wait"/> return an event with data 0.</summary>
    public void Wake()
    {
        // Under the gate: a wake racing with the loop's exit must not write to a closed (maybe reused) descriptor.
        lock (_wakeGate)
        {
            if (_wakeFd >= 0)
            {
                ulong one = 1;
                _ = Native.Write(_wakeFd, &one, sizeof(ulong));
            }
        }
    }

    /// <summary>Resets the eventfd after a wake-up, so that level-triggered epoll stops reporting it.</summary>
    public void ConsumeWake()
    {
        ulong value;
        _ = Native.Read(_wakeFd, &value, sizeof(ulong));
    }

    /// <summary>The loop thread, when it ends: closes both descriptors and frees the event buffer.</summary>
    public void Close()
    {
        lock (_wakeGate)
        {
            if (_wakeFd < 0)
            {
                return;
            }

            _ = Native.Close(_wakeFd);
            _wakeFd = -1;
        }

        _ = Native.Close(_epoll);
        NativeMemory.Free(_events);
        _events = null;
    }
}
