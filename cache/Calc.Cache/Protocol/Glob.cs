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
/// backtrack point, each text position is a start for it at most once, and one match costs O(pattern × text) steps
/// with no recursion, for any pattern.
/// </remarks>
public static class Glob
{
    /// <summary>Redis gives up after this many nested stars (a star at the very end does not count).</summary>
    public const int MaxStars = 1000;

    /// <summary>True if <paramref name="text"/> matches <paramref name="pattern"/>.</summary>
    public static bool IsMatch(ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> text, bool ignoreCase = false)
    {
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
                while (p < pattern.Length && pattern[p] == (byte)'*')
                {
                    p++;
                }

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

            if (p < pattern.Length && MatchOne(pattern, p, text[t], ignoreCase, out var next))
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

        while (p < pattern.Length && pattern[p] == (byte)'*')
        {
            p++;
        }

        return p == pattern.Length;
    }

    /// <summary>Whether the element at <paramref name="p"/> (not a star) matches <paramref name="c"/>; <paramref name="next"/> is the element after it.</summary>
    private static bool MatchOne(ReadOnlySpan<byte> pattern, int p, byte c, bool ignoreCase, out int next)
    {
        switch (pattern[p])
        {
            case (byte)'?':
                next = p + 1;
                return true;
            case (byte)'[':
                return MatchClass(pattern, p + 1, c, ignoreCase, out next);
            case (byte)'\\' when pattern.Length - p >= 2:
                next = p + 2;
                return Equal(pattern[p + 1], c, ignoreCase);
            default:
                next = p + 1;
                return Equal(pattern[p], c, ignoreCase);
        }
    }

    /// <summary>A class from just after its <c>[</c>, parsed exactly as Redis does.</summary>
    private static bool MatchClass(ReadOnlySpan<byte> pattern, int i, byte c, bool ignoreCase, out int next)
    {
        var not = i < pattern.Length && pattern[i] == (byte)'^';
        if (not)
        {
            i++;
        }

        var match = false;
        while (true)
        {
            if (i == pattern.Length)
            {
                break; // unterminated: the class ends with the pattern
            }

            if (pattern[i] == (byte)'\\' && pattern.Length - i >= 2)
            {
                i++;
                match |= pattern[i] == c; // exact even with ignoreCase, as Redis
            }
            else if (pattern[i] == (byte)']')
            {
                i++;
                break;
            }
            else if (pattern.Length - i >= 3 && pattern[i + 1] == (byte)'-')
            {
                int start = pattern[i], end = pattern[i + 2], ch = c;
                if (start > end)
                {
                    (start, end) = (end, start);
                }

                if (ignoreCase)
                {
                    start = Lower(start);
                    end = Lower(end);
                    ch = Lower(ch);
                }

                i += 2;
                match |= ch >= start && ch <= end;
            }
            else
            {
                match |= Equal(pattern[i], c, ignoreCase);
            }

            i++;
        }

        next = i;
        return match != not;
    }

    private static bool Equal(byte a, byte b, bool ignoreCase) => a == b || (ignoreCase && Lower(a) == Lower(b));

    private static int Lower(int c) => c is >= 'A' and <= 'Z' ? c | 0x20 : c;
}
