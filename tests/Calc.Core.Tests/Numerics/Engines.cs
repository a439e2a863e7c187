using Calc.Numerics;

namespace Calc.Core.Tests.Numerics;

/// <summary>Both engines, so every theory runs against GMP and managed code in the same process.</summary>
public static class Engines
{
    public const string Gmp = "gmp";
    public const string Managed = "managed";

    public static TheoryData<string> All => [Gmp, Managed];

    internal static BigIntegerEngine Get(string name)
    {
        if (name == Managed)
        {
            return BigIntegerEngine.Managed;
        }

        Assert.SkipWhen(BigIntegerEngine.Gmp is null, "libgmp (libgmp.so.10) does not load on this machine.");
        return BigIntegerEngine.Gmp!;
    }
}
