using System.Collections.Concurrent;
using Calc.Data;
using Microsoft.Extensions.Options;

namespace Calc.Calculations.Domain;

/// <summary>
/// The calculations this instance wrote last, as it stored them (content, version, expiry): the copy a building
/// calculation's next change starts from, so that a term or a finalize right after the create costs one versioned
/// write instead of a load plus a write. About <see cref="CalculationsOptions.RecentCopies"/> are kept (0: none;
/// concurrent writers may pass it by a few), only of calculations of at most
/// <see cref="CalculationsOptions.RecentCopyMaxDigits"/> digits in all, and a copy is dropped when it is used.
/// </summary>
/// <remarks>
/// A copy is only a guess: another instance or request may have changed the calculation since. Correctness does not
/// rest on it: a change from a copy is written at the copy's version, so a stale copy loses the write and the change
/// is decided again on a fresh load, and no answer that writes nothing (a refusal, a replay, a 404) is taken from a
/// copy (<see cref="DocumentRepositoryExtensions"/>). A stale copy costs one failed write, that is all.
/// </remarks>
internal sealed class RecentCopies(IOptions<CalculationsOptions> options)
{
    private readonly ConcurrentDictionary<string, StoredDocument<Calculation>> _copies = new(StringComparer.Ordinal);

    /// <summary>Keeps the copy just stored, in place of an older one; makes room by dropping another when full.</summary>
    public void Keep(StoredDocument<Calculation> stored)
    {
        var limit = options.Value.RecentCopies;
        var document = stored.Document;
        if (limit == 0 || document.Init.Length + document.Terms.Sum(term => term.Length) > options.Value.RecentCopyMaxDigits)
        {
            // A large calculation is not kept (memory stays about RecentCopies x RecentCopyMaxDigits); an older copy
            // of it would be stale now, so it goes too.
            _copies.TryRemove(stored.Id, out _);
            return;
        }

        while (_copies.Count >= limit && !_copies.ContainsKey(stored.Id))
        {
            // Any copy will do: a dropped one only costs its calculation's next change a load.
            // The dictionary's own enumerator takes no lock and copies nothing (its Keys would copy every key).
            using var first = _copies.GetEnumerator();
            if (!first.MoveNext() || _copies.TryRemove(first.Current.Key, out _))
            {
                break;
            }
        }

        _copies.AddOrUpdate(stored.Id, stored, (_, older) => older.Version > stored.Version ? older : stored);
    }

    /// <summary>Takes the copy of a calculation out (its next write makes it stale anyway), or null.</summary>
    public StoredDocument<Calculation>? Take(string id) => _copies.TryRemove(id, out var copy) ? copy : null;
}
