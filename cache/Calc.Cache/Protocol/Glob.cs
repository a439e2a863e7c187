namespace Calc.Cache.Protocol;

/// <summary>
/// Redis 7.0's glob matching (stringmatchlen: KEYS, SCAN MATCH, CONFIG GET): <c>* ? [abc] [^a] [a-z] [z-a] \x</c>,
/// with Redis's edge cases: an unterminated class ends at the end of the pattern, <c>\x</c> inside a class compares
/// exactly even when ignoring case, an empty text matches only the empty pattern, and a pattern with more than
/// <see cref="MaxStars"/> stars before its end never matches (Redis's recursion bound).
/// </summary>
/// <remarks>
/// Invariant (why it cannot go exponential, unlike the recursive form): when the part after a star fails at every
/// text position, no earlier star can help, because a longer match of an earlier star only moves the same remainder
/// later in the text; this is Redis's "skip longer matches" fix of CVE-2022-36021. So only the most recent star is a
/// backtrack point, and the text position it resumes from only grows: at most one restart per text byte, no recursion.
/// Each restart walks at most two pattern elements per text byte it consumes, and <see cref="Compile"/> makes every
/// element cost O(1) or at most <see cref="LongElement"/> bytes (a run of stars and a long class are looked up, not
/// re-read), so one match costs O(text × min(pattern, text)) steps whatever the pattern's length: a 512 MB pattern
/// costs one O(pattern) compile per command, not per key.
/// </remarks>
public sealed class Glob
{
    /// <summary>Redis gives up after this many nested stars (a star at the very end does not count).</summary>
    public const int MaxStars = 1000;

    /// <summary>Star runs and classes at least this long are precomputed by <see cref="Compile"/>.</summary>
    internal const int LongElement = 64;

    private readonly byte[] _pattern;
    private readonly bool _ignoreCase;
    private readonly Dictionary<int, int>? _starRunEnds;
    private readonly Dictionary<int, (ulong[] Set, int Next)>? _longClasses;

    private Glob(byte[] pattern, bool ignoreCase, Dictionary<int, int>? starRunEnds, Dictionary<int, (ulong[] Set, int Next)>? longClasses)
    {
        _pattern = pattern;
        _ignoreCase = ignoreCase;
        _starRunEnds = starRunEnds;
        _longClasses = longClasses;
    }

    /// <summary>True if <paramref name="text"/> matches <paramref name="pattern"/> (compiles it for this one call).</summary>
    public static bool IsMatch(ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> text, bool ignoreCase = false) =>
        Compile(pattern, ignoreCase).IsMatch(text);

    /// <summary>Prepares <paramref name="pattern"/> for matching many texts (one pass over it).</summary>
    public static Glob Compile(ReadOnlySpan<byte> pattern, bool ignoreCase = false)
    {
        Dictionary<int, int>? starRuns = null;
        Dictionary<int, (ulong[] Set, int Next)>? classes = null;
        Span<ulong> set = stackalloc ulong[4];
        var p = 0;
        while (p < pattern.Length)
        {
            switch (pattern[p])
            {
                case (byte)'*':
                    var end = p;
                    while (end < pattern.Length && pattern[end] == (byte)'*')
                    {
                        end++;
                    }

                    if (end - p >= LongElement)
                    {
                        (starRuns ??= [])[p] = end;
                    }

                    p = end;
                    break;
                case (byte)'[':
                    set.Clear();
                    var next = ParseClass(pattern, p + 1, ignoreCase, set);
                    if (next - p >= LongElement)
                    {
                        (classes ??= [])[p] = (set.ToArray(), next);
                    }

                    p = next;
                    break;
                case (byte)'\\' when pattern.Length - p >= 2:
                    p += 2;
                    break;
                default:
                    p++;
                    break;
            }
        }

        return new Glob(pattern.ToArray(), ignoreCase, starRuns, classes);
    }

    /// <summary>True if <paramref name="text"/> matches this pattern.</summary>
    public bool IsMatch(ReadOnlySpan<byte> text)
    {
        ReadOnlySpan<byte> pattern = _pattern;
        if (text.Length == 0)
        {
            return pattern.Length == 0; // Redis's loop runs only while both remain
        }

        int p = 0, t = 0;
        int resumePattern = -1, resumeText = -1, stars = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && pattern[p] == (byte)'*')
            {
                p = SkipStars(pattern, p);
                if (p == pattern.Length)
                {
                    return true;
                }

                if (++stars > MaxStars)
                {
                    return false;
                }

                resumePattern = p;
                resumeText = t;
                continue;
            }

            if (p < pattern.Length && MatchOne(pattern, p, text[t], out var next))
            {
                p = next;
                t++;
                continue;
            }

            if (resumePattern < 0)
            {
                return false;
            }

            // The last star takes one more byte; everything before it stays as it matched.
            p = resumePattern;
            t = ++resumeText;
        }

        return p == pattern.Length || (pattern[p] == (byte)'*' && SkipStars(pattern, p) == pattern.Length);
    }

    private int SkipStars(ReadOnlySpan<byte> pattern, int p)
    {
        if (_starRunEnds is not null && _starRunEnds.TryGetValue(p, out var end))
        {
            return end;
        }

        while (p < pattern.Length && pattern[p] == (byte)'*')
        {
            p++;
        }

        return p;
    }

    /// <summary>Whether the element at <paramref name="p"/> (not a star) matches <paramref name="c"/>; <paramref name="next"/> is the element after it.</summary>
    private bool MatchOne(ReadOnlySpan<byte> pattern, int p, byte c, out int next)
    {
        switch (pattern[p])
        {
            case (byte)'?':
                next = p + 1;
                return true;
            case (byte)'[':
                if (_longClasses is not null && _longClasses.TryGetValue(p, out var compiled))
                {
                    next = compiled.Next;
                    return Contains(compiled.Set, c);
                }

                Span<ulong> set = stackalloc ulong[4];
                next = ParseClass(pattern, p + 1, _ignoreCase, set);
                return Contains(set, c);
            case (byte)'\\' when pattern.Length - p >= 2:
                next = p + 2;
                return Equal(pattern[p + 1], c, _ignoreCase);
            default:
                next = p + 1;
                return Equal(pattern[p], c, _ignoreCase);
        }
    }

    /// <summary>
    /// Reads a class from just after its <c>[</c> exactly as Redis does, into the set of bytes it matches; returns the
    /// index after it. Each element costs O(1), so even a class of many megabytes is read once in linear time.
    /// </summary>
    private static int ParseClass(ReadOnlySpan<byte> pattern, int i, bool ignoreCase, Span<ulong> set)
    {
        var not = i < pattern.Length && pattern[i] == (byte)'^';
        if (not)
        {
            i++;
        }

        while (i < pattern.Length) // unterminated: the class ends with the pattern
        {
            if (pattern[i] == (byte)'\\' && pattern.Length - i >= 2)
            {
                i++;
                Add(set, pattern[i]); // exact even when ignoring case, as Redis
            }
            else if (pattern[i] == (byte)']')
            {
                i++;
                break;
            }
            else if (pattern.Length - i >= 3 && pattern[i + 1] == (byte)'-')
            {
                int start = pattern[i], end = pattern[i + 2];
                if (start > end)
                {
                    (start, end) = (end, start);
                }

                if (ignoreCase)
                {
                    // Redis lowers both ends and the byte: c matches when lower(c) is in [lower(start), lower(end)].
                    start = Lower(start);
                    end = Lower(end);
                    AddRange(set, start, end, exceptUpper: true);
                    AddRange(set, Math.Max(start, 'a') - 32, Math.Min(end, 'z') - 32, exceptUpper: false);
                }
                else
                {
                    AddRange(set, start, end, exceptUpper: false);
                }

                i += 2;
            }
            else
            {
                Add(set, pattern[i]);
                if (ignoreCase)
                {
                    Add(set, (byte)Lower(pattern[i]));
                    if (pattern[i] is >= (byte)'a' and <= (byte)'z')
                    {
                        Add(set, (byte)(pattern[i] - 32));
                    }
                }
            }

            i++;
        }

        if (not)
        {
            for (var w = 0; w < 4; w++)
            {
                set[w] = ~set[w];
            }
        }

        return i;
    }

    private static void Add(Span<ulong> set, byte c) => set[c >> 6] |= 1UL << (c & 63);

    /// <summary>Adds [<paramref name="from"/>, <paramref name="to"/>] (nothing if empty), without A-Z if asked.</summary>
    private static void AddRange(Span<ulong> set, int from, int to, bool exceptUpper)
    {
        for (var w = from >> 6; w <= to >> 6 && from <= to; w++)
        {
            int low = Math.Max(from, w * 64) - (w * 64), high = Math.Min(to, (w * 64) + 63) - (w * 64);
            var bits = (high == 63 ? ulong.MaxValue : (1UL << (high + 1)) - 1) & ~((1UL << low) - 1);
            if (exceptUpper && w == 1)
            {
                bits &= ~(((1UL << 26) - 1) << ('A' - 64)); // 'A'..'Z' are bits 1..26 of word 1
            }

            set[w] |= bits;
        }
    }

    private static bool Contains(ReadOnlySpan<ulong> set, byte c) => (set[c >> 6] & (1UL << (c & 63))) != 0;

    private static bool Equal(byte a, byte b, bool ignoreCase) => a == b || (ignoreCase && Lower(a) == Lower(b));

    private static int Lower(int c) => c is >= 'A' and <= 'Z' ? c | 0x20 : c;
}
