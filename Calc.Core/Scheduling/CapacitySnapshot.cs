namespace Calc.Core.Scheduling;

/// <summary>The scheduler's load at one moment.</summary>
/// <param name="Slots">Tasks processed at once, at most.</param>
/// <param name="ReservedHigh">Slots only high-priority tasks may use.</param>
/// <param name="Processing">Tasks holding a slot now.</param>
/// <param name="ProcessingHigh">Of <paramref name="Processing"/>, the high-priority ones.</param>
public sealed record CapacitySnapshot(int Slots, int ReservedHigh, int Processing, int ProcessingHigh)
{
    /// <summary>Slots a normal-priority task could take now.</summary>
    public int FreeForNormal => Math.Max(0, Slots - ReservedHigh - Processing);

    /// <summary>Slots a high-priority task could take now.</summary>
    public int FreeForHigh => Math.Max(0, Slots - Processing);

    /// <summary>Load between 0 and 1: processing divided by slots.</summary>
    public double Load => Slots == 0 ? 1 : (double)Processing / Slots;
}
