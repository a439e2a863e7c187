namespace Calc.Data;

/// <summary>A registered collection as the background purger sees it.</summary>
internal interface IExpiringCollection
{
    string Name { get; }

    Task<long> PurgeExpiredAsync(CancellationToken cancellationToken);
}
