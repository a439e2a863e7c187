using System.Runtime.InteropServices;
using Calc.Epoll;

namespace Calc.Cache.Storage;

/// <summary>
/// fsync of a directory, so that a rename in it (the rewritten append-only file taking the old one's place) survives a
/// machine crash. .NET has no API for it; on Linux it is open(O_RDONLY | O_DIRECTORY) + fsync. Elsewhere a no-op.
/// </summary>
internal static partial class DirectorySync
{
    private const int ORdOnly = 0;
    private const int ODirectory = 0x10000;
    private const int OCloexec = 0x80000;

    /// <summary>True when the directory's entries reached the disk (or the platform has nothing to do).</summary>
    public static bool Flush(string directory)
    {
        if (!OperatingSystem.IsLinux())
        {
            return true;
        }

        var fd = Open(directory, ORdOnly | ODirectory | OCloexec);
        if (fd < 0)
        {
            return false;
        }

        var synced = Fsync(fd) == 0;
        _ = Native.Close(fd);
        return synced;
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync")]
    private static partial int Fsync(int fd);
}
