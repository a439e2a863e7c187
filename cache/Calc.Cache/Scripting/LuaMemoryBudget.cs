using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using KeraLua;

namespace Calc.Cache.Scripting;

/// <summary>
/// The Lua interpreter's allocator (lua-max-memory): every block Lua allocates goes through <see cref="Allocate"/>,
/// which counts the bytes Lua holds and, while <see cref="Enforced"/>, refuses (returns NULL for) a growth that would
/// pass <see cref="Limit"/>. Lua then runs an emergency collection, retries once, and raises its memory error
/// (LUA_ERRMEM) inside its own protected call, so a runaway script ends with an error while the server stays up.
/// <para>
/// Enforced only while Lua code runs in a protected call (the script's coroutine, compiling a script): a refused
/// allocation in an unprotected API call, or under a managed frame (redis.call's C part pushing a reply), would
/// longjmp through managed code or abort the process. Those allocations are bounded by the request and reply limits.
/// Shrinks and frees are never refused (Lua assumes they cannot fail).
/// </para>
/// <para>
/// The counters live in native memory and the function is <see cref="UnmanagedCallersOnly"/>: it runs on every Lua
/// allocation, so it touches no managed object, takes no lock (one thread uses the interpreter at a time: the gate's
/// exclusive section) and skips a delegate's marshalling stub.
/// </para>
/// </summary>
internal sealed unsafe class LuaMemoryBudget : IDisposable
{
    private Counters* _counters;

    public LuaMemoryBudget()
    {
        _counters = (Counters*)NativeMemory.AllocZeroed((nuint)sizeof(Counters));
        // A delegate over the unmanaged entry point: KeraLua hands lua_newstate this delegate's function pointer, which
        // for a delegate made from a function pointer is that pointer itself (no stub, nothing the GC could collect).
        Allocator = Marshal.GetDelegateForFunctionPointer<LuaAlloc>((IntPtr)(delegate* unmanaged[Cdecl]<IntPtr, IntPtr, nuint, nuint, IntPtr>)&Allocate);
    }

    /// <summary>Give to <c>new Lua(Allocator, UserData)</c>; kept here so it lives as long as the interpreter.</summary>
    public LuaAlloc Allocator { get; }

    /// <summary>Lua's opaque pointer: the counters.</summary>
    public IntPtr UserData => (IntPtr)_counters;

    /// <summary>Bytes Lua holds now (live objects and garbage not yet collected).</summary>
    public long Used => _counters->Used;

    /// <summary>The most bytes Lua may hold while <see cref="Enforced"/>; 0 = no limit.</summary>
    public long Limit
    {
        get => _counters->Limit;
        set => _counters->Limit = value;
    }

    /// <summary>Whether growth past <see cref="Limit"/> is refused now (only inside Lua's protected calls).</summary>
    public bool Enforced
    {
        get => _counters->Enforced != 0;
        set => _counters->Enforced = value ? 1 : 0;
    }

    /// <summary>Whether an allocation was refused since the last <see cref="ResetRefused"/>.</summary>
    public bool Refused => _counters->Refused != 0;

    public void ResetRefused() => _counters->Refused = 0;

    /// <summary>Call after the interpreter is closed (lua_close frees through <see cref="Allocate"/>).</summary>
    public void Dispose()
    {
        NativeMemory.Free(_counters);
        _counters = null;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static IntPtr Allocate(IntPtr ud, IntPtr ptr, nuint osize, nuint nsize)
    {
        var counters = (Counters*)ud;
        // With ptr NULL, osize is the kind of object Lua allocates, not a size.
        var old = ptr == IntPtr.Zero ? 0 : osize;
        if (nsize == 0)
        {
            NativeMemory.Free((void*)ptr);
            counters->Used -= (long)old;
            return IntPtr.Zero;
        }

        if (nsize > old && counters->Enforced != 0 && counters->Limit > 0
            && nsize - old > (nuint)Math.Max(0, counters->Limit - counters->Used))
        {
            counters->Refused = 1;
            return IntPtr.Zero;
        }

        var block = NativeMemory.Realloc((void*)ptr, nsize);
        if (block == null)
        {
            return IntPtr.Zero;
        }

        counters->Used += (long)nsize - (long)old;
        return (IntPtr)block;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Counters
    {
        public long Used;
        public long Limit;
        public int Enforced;
        public int Refused;
    }
}
