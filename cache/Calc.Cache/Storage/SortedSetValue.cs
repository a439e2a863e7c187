namespace Calc.Cache.Storage;

/// <summary>One member of a sorted set with its score.</summary>
internal readonly record struct ScoredMember(double Score, byte[] Member)
{
    /// <summary>Redis's order: by score, then by member bytes (memcmp, a prefix first).</summary>
    public static int Compare(double score, ReadOnlySpan<byte> member, in ScoredMember other)
    {
        var byScore = score.CompareTo(other.Score);
        return byScore != 0 ? byScore : member.SequenceCompareTo(other.Member);
    }
}

/// <summary>
/// The value of a sorted set key. Order: a list of sorted chunks of at most <see cref="ChunkSize"/> members (a B-tree
/// of one level, as Redis's skiplist gives O(log N) search: here a binary search over the chunks' last members, then
/// within one chunk; insert and delete move at most a chunk; rank and index walk the chunk counts, O(N / 128)).
/// Lookup by member: an index into a dense list, which also gives a random member in O(1) and a scan cursor that
/// misses nothing (the same scheme as <see cref="SetValue"/>).
/// </summary>
internal sealed class SortedSetValue : CollectionValue
{
    private const int ChunkSize = 128;
    private readonly List<Chunk> _chunks = [];
    private readonly List<ScoredMember> _dense = [];
    private readonly Dictionary<byte[], int> _index = new(ByteArrayComparer.Instance);
    private bool _skiplist;

    public override long ObjectBytes => MemoryEstimate.SortedSetObject;

    public override int Count => _dense.Count;

    /// <summary>
    /// OBJECT ENCODING as Redis 7.0 would answer: "listpack" while at most zset-max-listpack-entries (128) members of at
    /// most zset-max-listpack-value (64) bytes, then "skiplist" for good.
    /// </summary>
    public string Encoding => _skiplist ? "skiplist" : "listpack";

    /// <summary>Member at dense position <paramref name="position"/> (random pick, ZSCAN): unordered.</summary>
    public ScoredMember Dense(int position) => _dense[position];

    /// <summary>COPY: the same members and scores, and the same OBJECT ENCODING.</summary>
    public SortedSetValue Clone()
    {
        var copy = new SortedSetValue();
        foreach (var item in _dense)
        {
            copy.Set(item.Member, item.Score);
        }

        copy._skiplist = _skiplist;
        return copy;
    }

    public bool TryGetScore(ReadOnlySpan<byte> member, out double score)
    {
        if (_index.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(member, out var position))
        {
            score = _dense[position].Score;
            return true;
        }

        score = 0;
        return false;
    }

    /// <summary>Adds a member or moves it to a new score; true if it was new.</summary>
    public bool Set(ReadOnlySpan<byte> member, double score)
    {
        var lookup = _index.GetAlternateLookup<ReadOnlySpan<byte>>();
        if (lookup.TryGetValue(member, out var position))
        {
            var old = _dense[position];
            if (old.Score.Equals(score))
            {
                return false;
            }

            RemoveOrdered(old);
            var moved = old with { Score = score };
            _dense[position] = moved;
            InsertOrdered(moved);
            return false;
        }

        var item = new ScoredMember(score, member.ToArray());
        _index.Add(item.Member, _dense.Count);
        _dense.Add(item);
        InsertOrdered(item);
        DataBytes += MemoryEstimate.SortedSetMember + MemoryEstimate.Array(item.Member.Length);
        if (!_skiplist && (_dense.Count > 128 || item.Member.Length > 64))
        {
            _skiplist = true;
        }

        return true;
    }

    public bool Remove(ReadOnlySpan<byte> member)
    {
        if (!_index.GetAlternateLookup<ReadOnlySpan<byte>>().Remove(member, out _, out var position))
        {
            return false;
        }

        var item = _dense[position];
        RemoveOrdered(item);
        var last = _dense.Count - 1;
        if (position != last)
        {
            var moved = _dense[last];
            _dense[position] = moved;
            _index[moved.Member] = position;
        }

        _dense.RemoveAt(last);
        DataBytes -= MemoryEstimate.SortedSetMember + MemoryEstimate.Array(item.Member.Length);
        return true;
    }

    /// <summary>0-based rank of a member in ascending order, or -1.</summary>
    public long Rank(ReadOnlySpan<byte> member)
    {
        if (!TryGetScore(member, out var score))
        {
            return -1;
        }

        var rank = 0L;
        foreach (var chunk in _chunks)
        {
            if (ScoredMember.Compare(score, member, chunk.Last) <= 0)
            {
                return rank + chunk.Find(score, member);
            }

            rank += chunk.Count;
        }

        return -1;
    }

    /// <summary>The member at ascending rank <paramref name="rank"/> (0..Count-1).</summary>
    public ScoredMember At(long rank)
    {
        foreach (var chunk in _chunks)
        {
            if (rank < chunk.Count)
            {
                return chunk.Items[rank];
            }

            rank -= chunk.Count;
        }

        throw new ArgumentOutOfRangeException(nameof(rank));
    }

    /// <summary>Members from ascending rank <paramref name="from"/> on, in order (backwards when <paramref name="reverse"/>).</summary>
    public IEnumerable<ScoredMember> From(long from, bool reverse)
    {
        var (chunkIndex, offset) = Locate(from);
        if (chunkIndex < 0)
        {
            yield break;
        }

        if (!reverse)
        {
            for (var c = chunkIndex; c < _chunks.Count; c++, offset = 0)
            {
                var chunk = _chunks[c];
                for (var i = offset; i < chunk.Count; i++)
                {
                    yield return chunk.Items[i];
                }
            }
        }
        else
        {
            for (var c = chunkIndex; c >= 0; c--)
            {
                var chunk = _chunks[c];
                for (var i = c == chunkIndex ? offset : chunk.Count - 1; i >= 0; i--)
                {
                    yield return chunk.Items[i];
                }
            }
        }
    }

    /// <summary>How many members sort before the first one that satisfies <paramref name="atOrAfter"/> (monotone in the order).</summary>
    public long CountBefore(Func<ScoredMember, bool> atOrAfter)
    {
        var rank = 0L;
        foreach (var chunk in _chunks)
        {
            if (!atOrAfter(chunk.Last))
            {
                rank += chunk.Count;
                continue;
            }

            int lo = 0, hi = chunk.Count - 1;
            while (lo < hi)
            {
                var mid = (lo + hi) >>> 1;
                if (atOrAfter(chunk.Items[mid]))
                {
                    hi = mid;
                }
                else
                {
                    lo = mid + 1;
                }
            }

            return rank + lo;
        }

        return rank;
    }

    private (int Chunk, int Offset) Locate(long rank)
    {
        if (rank < 0 || rank >= _dense.Count)
        {
            return (-1, 0);
        }

        for (var c = 0; c < _chunks.Count; c++)
        {
            if (rank < _chunks[c].Count)
            {
                return (c, (int)rank);
            }

            rank -= _chunks[c].Count;
        }

        return (-1, 0);
    }

    private int ChunkFor(double score, ReadOnlySpan<byte> member)
    {
        int lo = 0, hi = _chunks.Count - 1;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (ScoredMember.Compare(score, member, _chunks[mid].Last) <= 0)
            {
                hi = mid;
            }
            else
            {
                lo = mid + 1;
            }
        }

        return lo;
    }

    private void InsertOrdered(ScoredMember item)
    {
        if (_chunks.Count == 0)
        {
            _chunks.Add(new Chunk());
        }

        var c = ChunkFor(item.Score, item.Member);
        var chunk = _chunks[c];
        if (chunk.Count == ChunkSize)
        {
            var upper = chunk.SplitUpperHalf();
            _chunks.Insert(c + 1, upper);
            if (ScoredMember.Compare(item.Score, item.Member, chunk.Last) > 0)
            {
                chunk = upper;
            }
        }

        chunk.Insert(item);
    }

    private void RemoveOrdered(ScoredMember item)
    {
        var c = ChunkFor(item.Score, item.Member);
        var chunk = _chunks[c];
        chunk.RemoveAt(chunk.Find(item.Score, item.Member));
        if (chunk.Count == 0)
        {
            _chunks.RemoveAt(c);
        }
        else if (c + 1 < _chunks.Count && chunk.Count + _chunks[c + 1].Count <= ChunkSize / 2)
        {
            chunk.Absorb(_chunks[c + 1]); // keeps chunks at least a quarter full after many deletes
            _chunks.RemoveAt(c + 1);
        }
    }

    private sealed class Chunk
    {
        public ScoredMember[] Items { get; private set; } = new ScoredMember[8];

        public int Count { get; private set; }

        public ScoredMember Last => Items[Count - 1];

        /// <summary>Position of an existing member, or where it would be inserted.</summary>
        public int Find(double score, ReadOnlySpan<byte> member)
        {
            int lo = 0, hi = Count;
            while (lo < hi)
            {
                var mid = (lo + hi) >>> 1;
                if (ScoredMember.Compare(score, member, Items[mid]) <= 0)
                {
                    hi = mid;
                }
                else
                {
                    lo = mid + 1;
                }
            }

            return lo;
        }

        public void Insert(ScoredMember item)
        {
            var at = Count == 0 ? 0 : Find(item.Score, item.Member);
            if (Count == Items.Length)
            {
                var grown = new ScoredMember[Math.Min(Items.Length * 2, ChunkSize)];
                Array.Copy(Items, grown, Count);
                Items = grown;
            }

            Array.Copy(Items, at, Items, at + 1, Count - at);
            Items[at] = item;
            Count++;
        }

        public void RemoveAt(int at)
        {
            Count--;
            Array.Copy(Items, at + 1, Items, at, Count - at);
            Items[Count] = default;
        }

        public Chunk SplitUpperHalf()
        {
            var upper = new Chunk { Items = new ScoredMember[ChunkSize] };
            var half = Count / 2;
            Array.Copy(Items, half, upper.Items, 0, Count - half);
            upper.Count = Count - half;
            Array.Clear(Items, half, Count - half);
            Count = half;
            return upper;
        }

        public void Absorb(Chunk next)
        {
            if (Items.Length < Count + next.Count)
            {
                var grown = new ScoredMember[ChunkSize];
                Array.Copy(Items, grown, Count);
                Items = grown;
            }

            Array.Copy(next.Items, 0, Items, Count, next.Count);
            Count += next.Count;
        }
    }
}
