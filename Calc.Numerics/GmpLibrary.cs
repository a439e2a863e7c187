using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;

namespace Calc.Numerics;

/// <summary>
/// The few GMP functions we use, bound at run time through <see cref="NativeLibrary"/> so that a machine without
/// libgmp still loads this assembly and falls back to the managed engine.
/// </summary>
/// <remarks>
/// WARNING: GMP aborts the whole process when an allocation fails or an mpz would exceed its size limit. Callers
/// bound result sizes up front (<see cref="BigMath.EstimateFactorialBits"/>, <see cref="BigMath.EstimatePowerBits"/>).
/// </remarks>
internal sealed unsafe class GmpLibrary
{
    private static readonly string[] LibraryNames = ["libgmp.so.10", "libgmp.so", "libgmp.10.dylib", "libgmp-10.dll"];
    private static readonly Lazy<GmpLibrary?> Loaded = new(TryLoad, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly delegate* unmanaged<Mpz*, void> _init;
    private readonly delegate* unmanaged<Mpz*, void> _clear;
    private readonly delegate* unmanaged<Mpz*, nuint, void> _setUi;
    private readonly delegate* unmanaged<Mpz*, Mpz*, Mpz*, void> _mul;
    private readonly delegate* unmanaged<Mpz*, Mpz*, nuint, void> _mulUi;
    private readonly delegate* unmanaged<Mpz*, Mpz*, nuint, void> _mul2Exp;
    private readonly delegate* unmanaged<Mpz*, nuint, int, nuint, int, nuint, void*, void> _import;
    private readonly delegate* unmanaged<void*, nuint*, int, nuint, int, nuint, Mpz*, void*> _export;
    private readonly delegate* unmanaged<byte*, int, Mpz*, byte*> _getStr;
    private readonly delegate* unmanaged<Mpz*, byte*, int, int> _setStr;
    private readonly delegate* unmanaged<Mpz*, int, nuint> _sizeInBase;

    private GmpLibrary(nint handle)
    {
        _init = (delegate* unmanaged<Mpz*, void>)Export(handle, "__gmpz_init");
        _clear = (delegate* unmanaged<Mpz*, void>)Export(handle, "__gmpz_clear");
        _setUi = (delegate* unmanaged<Mpz*, nuint, void>)Export(handle, "__gmpz_set_ui");
        _mul = (delegate* unmanaged<Mpz*, Mpz*, Mpz*, void>)Export(handle, "__gmpz_mul");
        _mulUi = (delegate* unmanaged<Mpz*, Mpz*, nuint, void>)Export(handle, "__gmpz_mul_ui");
        _mul2Exp = (delegate* unmanaged<Mpz*, Mpz*, nuint, void>)Export(handle, "__gmpz_mul_2exp");
        _import = (delegate* unmanaged<Mpz*, nuint, int, nuint, int, nuint, void*, void>)Export(handle, "__gmpz_import");
        _export = (delegate* unmanaged<void*, nuint*, int, nuint, int, nuint, Mpz*, void*>)Export(handle, "__gmpz_export");
        _getStr = (delegate* unmanaged<byte*, int, Mpz*, byte*>)Export(handle, "__gmpz_get_str");
        _setStr = (delegate* unmanaged<Mpz*, byte*, int, int>)Export(handle, "__gmpz_set_str");
        _sizeInBase = (delegate* unmanaged<Mpz*, int, nuint>)Export(handle, "__gmpz_sizeinbase");
        // __gmp_version is a `const char * const` variable: the export is the address of the pointer.
        Version = Marshal.PtrToStringUTF8(*(nint*)Export(handle, "__gmp_version")) ?? "?";
    }

    /// <summary>The loaded library, or null when libgmp is not found or lacks a symbol we need.</summary>
    public static GmpLibrary? Instance => Loaded.Value;

    /// <summary>GMP's own version string, e.g. "6.2.1".</summary>
    public string Version { get; }

    public void Init(Mpz* x) => _init(x);

    public void Clear(Mpz* x) => _clear(x);

    public void Set(Mpz* r, ulong value) => _setUi(r, (nuint)value);

    /// <summary>r = a * b; r may alias a and/or b (GMP squares when a == b).</summary>
    public void Multiply(Mpz* r, Mpz* a, Mpz* b) => _mul(r, a, b);

    public void Multiply(Mpz* r, Mpz* a, ulong b) => _mulUi(r, a, (nuint)b);

    public void ShiftLeft(Mpz* r, Mpz* a, ulong bits) => _mul2Exp(r, a, (nuint)bits);

    public static void Negate(Mpz* x) => x->Size = -x->Size;

    public ulong SizeInBase(Mpz* x, int numberBase) => _sizeInBase(x, numberBase);

    /// <summary>Sets <paramref name="r"/> to <paramref name="value"/> in linear time (mpz_import of the magnitude).</summary>
    public void Set(Mpz* r, BigInteger value)
    {
        if (value.IsZero)
        {
            _setUi(r, 0);
            return;
        }

        var magnitude = BigInteger.Abs(value);
        var byteCount = magnitude.GetByteCount(isUnsigned: true);
        var wordCount = (byteCount + 7) / 8;
        var buffer = (ulong*)NativeMemory.Alloc((nuint)wordCount, sizeof(ulong));
        try
        {
            buffer[wordCount - 1] = 0; // the top word may be partly filled
            var bytes = new Span<byte>(buffer, wordCount * 8);
            if (!magnitude.TryWriteBytes(bytes, out _, isUnsigned: true, isBigEndian: false))
            {
                throw new InvalidOperationException("BigInteger did not fit its own byte count.");
            }

            // order -1: least significant word first; 8-byte words; endian -1: little-endian words; no nails.
            _import(r, (nuint)wordCount, -1, sizeof(ulong), -1, 0, buffer);
        }
        finally
        {
            NativeMemory.Free(buffer);
        }

        if (value.Sign < 0)
        {
            Negate(r);
        }
    }

    /// <summary>Reads <paramref name="x"/> as a <see cref="BigInteger"/> in linear time (mpz_export of the magnitude).</summary>
    public BigInteger ToBigInteger(Mpz* x)
    {
        if (x->Size == 0)
        {
            return BigInteger.Zero;
        }

        var wordCount = Math.Abs(x->Size);
        var buffer = (ulong*)NativeMemory.Alloc((nuint)wordCount, sizeof(ulong));
        try
        {
            nuint written;
            _export(buffer, &written, -1, sizeof(ulong), -1, 0, x);
            var value = new BigInteger(new ReadOnlySpan<byte>(buffer, checked((int)(written * 8))), isUnsigned: true, isBigEndian: false);
            return x->Size < 0 ? -value : value;
        }
        finally
        {
            NativeMemory.Free(buffer);
        }
    }

    /// <summary>Decimal text of <paramref name="x"/> (mpz_get_str into our own buffer, so GMP allocates nothing we must free).</summary>
    public string ToDecimalString(Mpz* x)
    {
        // sizeinbase may overstate by one; +2 for the sign and the terminating NUL.
        var capacity = checked((nuint)SizeInBase(x, 10) + 2);
        var buffer = (byte*)NativeMemory.Alloc(capacity);
        try
        {
            _getStr(buffer, 10, x);
            return Encoding.ASCII.GetString(MemoryMarshal.CreateReadOnlySpanFromNullTerminated(buffer));
        }
        finally
        {
            NativeMemory.Free(buffer);
        }
    }

    /// <summary>Parses optional '-' and decimal digits; false when mpz_set_str rejects the text.</summary>
    public bool TrySetDecimal(Mpz* r, ReadOnlySpan<char> text)
    {
        var buffer = (byte*)NativeMemory.Alloc((nuint)text.Length + 1);
        try
        {
            var count = Encoding.ASCII.GetBytes(text, new Span<byte>(buffer, text.Length));
            buffer[count] = 0;
            return _setStr(r, buffer, 10) == 0;
        }
        finally
        {
            NativeMemory.Free(buffer);
        }
    }

    private static GmpLibrary? TryLoad()
    {
        foreach (var name in LibraryNames)
        {
            if (NativeLibrary.TryLoad(name, out var handle))
            {
                try
                {
                    return new GmpLibrary(handle);
                }
                catch (EntryPointNotFoundException)
                {
                    NativeLibrary.Free(handle);
                }
            }
        }

        return null;
    }

    private static nint Export(nint handle, string name) =>
        NativeLibrary.TryGetExport(handle, name, out var address)
            ? address
            : throw new EntryPointNotFoundException($"libgmp lacks {name}.");
}
