using System.Linq.Expressions;
using Marten.Linq;

namespace Calc.Data.Marten;

// Marten compiled queries for QueryAsync: the LINQ expression is parsed and turned into SQL once per query type, at
// first use, instead of on every call (bench/RESULTS.md, "Data": the per-call LINQ parse doubled the page's client CPU).
// A compiled query's shape is fixed, so there is one per combination of filter (all / one index value) and direction;
// the expiry filter, the order (sort key, then id) and the paging are the same as the LINQ query they replace.

/// <summary>A page of live documents, ascending.</summary>
internal sealed class LivePageAscending<T> : ICompiledListQuery<MartenDocument<T>> where T : class
{
    public DateTimeOffset Now { get; set; }
    public int Offset { get; set; }
    public int Limit { get; set; }

    public Expression<Func<IMartenQueryable<MartenDocument<T>>, IEnumerable<MartenDocument<T>>>> QueryIs() =>
        query => query.Where(stored => stored.ExpiresAt == null || stored.ExpiresAt > Now)
            .OrderBy(stored => stored.Sort).ThenBy(stored => stored.Id)
            .Skip(Offset).Take(Limit);
}

/// <summary>A page of live documents, descending.</summary>
internal sealed class LivePageDescending<T> : ICompiledListQuery<MartenDocument<T>> where T : class
{
    public DateTimeOffset Now { get; set; }
    public int Offset { get; set; }
    public int Limit { get; set; }

    public Expression<Func<IMartenQueryable<MartenDocument<T>>, IEnumerable<MartenDocument<T>>>> QueryIs() =>
        query => query.Where(stored => stored.ExpiresAt == null || stored.ExpiresAt > Now)
            .OrderByDescending(stored => stored.Sort).ThenByDescending(stored => stored.Id)
            .Skip(Offset).Take(Limit);
}

/// <summary>A page of live documents with one index value, ascending.</summary>
internal sealed class LiveIndexPageAscending<T> : ICompiledListQuery<MartenDocument<T>> where T : class
{
    public string IndexValue { get; set; } = "";
    public DateTimeOffset Now { get; set; }
    public int Offset { get; set; }
    public int Limit { get; set; }

    public Expression<Func<IMartenQueryable<MartenDocument<T>>, IEnumerable<MartenDocument<T>>>> QueryIs() =>
        query => query.Where(stored => (stored.ExpiresAt == null || stored.ExpiresAt > Now) && stored.Idx == IndexValue)
            .OrderBy(stored => stored.Sort).ThenBy(stored => stored.Id)
            .Skip(Offset).Take(Limit);
}

/// <summary>A page of live documents with one index value, descending.</summary>
internal sealed class LiveIndexPageDescending<T> : ICompiledListQuery<MartenDocument<T>> where T : class
{
    public string IndexValue { get; set; } = "";
    public DateTimeOffset Now { get; set; }
    public int Offset { get; set; }
    public int Limit { get; set; }

    public Expression<Func<IMartenQueryable<MartenDocument<T>>, IEnumerable<MartenDocument<T>>>> QueryIs() =>
        query => query.Where(stored => (stored.ExpiresAt == null || stored.ExpiresAt > Now) && stored.Idx == IndexValue)
            .OrderByDescending(stored => stored.Sort).ThenByDescending(stored => stored.Id)
            .Skip(Offset).Take(Limit);
}
