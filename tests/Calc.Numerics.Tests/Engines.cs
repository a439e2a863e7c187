
namespace Calc.Numerics.Tests;

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

        // Not a skip: the test command installs libgmp10, so a GMP that does not load is a failure to see.
        return BigIntegerEngine.Gmp
            ?? throw new InvalidOperationException("libgmp (libgmp.so.10) does not load: install the Debian package 'libgmp10'.");
    }
}
