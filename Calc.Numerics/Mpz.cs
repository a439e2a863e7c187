using System.Runtime.InteropServices;

namespace Calc.Numerics;

/// <summary>
/// GMP's <c>__mpz_struct</c> on LP64 platforms: 16 bytes. Instances live on the stack (or in native memory) so that
/// their address is stable while GMP holds it; every initialized one must be cleared (<see cref="GmpLibrary.Clear"/>).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct Mpz
{
    public int Alloc;

    /// <summary>Number of limbs in use; negative for a negative value, 0 for zero.</summary>
    public int Size;

    public nint Limbs;
}
