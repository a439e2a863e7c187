using System.Runtime.InteropServices;

namespace Calc.Epoll;

/// <summary>
/// The few libc calls the epoll event loops make (Linux x64: the packed <c>epoll_event</c> layout). The calls made per
/// request do not ask the marshaller for SetLastError (which clears errno before and copies it after every call, ~4%
/// of a loop's CPU); errno is read with <see cref="Marshal.GetLastSystemError"/> only after a call returned -1 (which
/// always sets it), right after the call, as the generated SetLastError code reads it.
/// </summary>
internal static unsafe partial class Native
{
    public const int EpollCloexec = 0x80000;
    public const int EpollCtlAdd = 1;
    public const int EpollCtlDel = 2;
    public const int EpollCtlMod = 3;
    public const uint EpollIn = 0x001;
    public const uint EpollOut = 0x004;
    public const uint EpollErr = 0x008;
    public const uint EpollHup = 0x010;
    public const uint EpollRdHup = 0x2000;
    public const int MsgNoSignal = 0x4000;
    public const int EIntr = 4;
    public const int EAgain = 11;
    public const int EfdNonBlock = 0x800;
    public const int EfdCloexec = 0x80000;

    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    public struct EpollEvent
    {
        public uint Events;
        public ulong Data;
    }

    /// <summary>Ends the process at once (no managed shutdown handlers).</summary>
    [LibraryImport("libc", EntryPoint = "_exit")]
    public static partial void Exit(int status);

    [LibraryImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
    public static partial int EpollCreate1(int flags);

    [LibraryImport("libc", EntryPoint = "epoll_ctl")]
    public static partial int EpollCtl(int epfd, int op, int fd, EpollEvent* ev);

    [LibraryImport("libc", EntryPoint = "epoll_wait")]
    public static partial int EpollWait(int epfd, EpollEvent* events, int maxEvents, int timeout);

    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    public static partial int EventFd(uint initialValue, int flags);

    [LibraryImport("libc", EntryPoint = "read")]
    public static partial nint Read(int fd, void* buffer, nint length);

    [LibraryImport("libc", EntryPoint = "write")]
    public static partial nint Write(int fd, void* buffer, nint length);

    [LibraryImport("libc", EntryPoint = "close")]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "recv")]
    public static partial nint Recv(int fd, byte* buffer, nint length, int flags);

    [LibraryImport("libc", EntryPoint = "send")]
    public static partial nint Send(int fd, byte* buffer, nint length, int flags);

    /// <summary>Bytes received; 0 when the peer closed; -1 when nothing is there yet; -2 on an error (reset).</summary>
    public static nint Receive(int fd, Span<byte> buffer)
    {
        nint received;
        fixed (byte* p = buffer)
        {
            received = Recv(fd, p, buffer.Length, 0);
        }

        if (received >= 0)
        {
            return received;
        }

        return Marshal.GetLastSystemError() is EAgain or EIntr ? -1 : -2;
    }

    /// <summary>Bytes sent; -1 when the socket would block; -2 on an error (the peer is gone).</summary>
    public static nint SendSome(int fd, ReadOnlySpan<byte> data)
    {
        nint sent;
        fixed (byte* p = data)
        {
            sent = Send(fd, p, data.Length, MsgNoSignal);
        }

        if (sent >= 0)
        {
            return sent == 0 && data.Length > 0 ? -1 : sent;
        }

        return Marshal.GetLastSystemError() is EAgain or EIntr ? -1 : -2;
    }
}
