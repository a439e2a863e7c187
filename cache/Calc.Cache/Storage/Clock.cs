namespace Calc.Cache.Storage;

/// <summary>Wall-clock time in Unix milliseconds, the unit Redis expiry uses.</summary>
internal static class Clock
{
    public static long UnixMs => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
}
