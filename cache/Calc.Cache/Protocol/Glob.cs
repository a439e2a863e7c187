namespace Calc.Cache.Protocol;

/// <summary>Redis's glob matching (KEYS, SCAN MATCH, CONFIG GET): <c>* ? [abc] [^a] [a-z] \x</c>.</summary>
public static class Glob
{
    /// <summary>True if <paramref name="text"/> matches <paramref name="pattern"/>.</summary>
    public static bool IsMatch(ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> text, bool ignoreCase = false) =>
        Match(pattern, text, ignoreCase, 0);

    private static bool Match(ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> text, bool ignoreCase, int depth)
    {
        // Depth bound as in Redis 7.0.x: a pattern of many stars cannot make matching exponential or overflow the stack.
        if (depth > 1000)
        {
            return false;
        }

        while (pattern.Length > 0)
        {
            switch (pattern[0])
            {
                case (byte)'*':
                    while (pattern.Length > 1 && pattern[1] == (byte)'*')
                    {
                        pattern = pattern[1..];
                    }

                    if (pattern.Length == 1)
                    {
                        return true;
                    }

                    for (var i = 0; i <= text.Length; i++)
                    {
                        if (Match(pattern[1..], text[i..], ignoreCase, depth + 1))
                        {
                            return true;
                        }
                    }

                    return false;
                case (byte)'?':
                    if (text.Length == 0)
                    {
                        return false;
                    }

                    text = text[1..];
                    break;
                case (byte)'[':
                    {
                        if (text.Length == 0)
                        {
                            return false;
                        }

                        pattern = pattern[1..];
                        var not = pattern.Length > 0 && pattern[0] == (byte)'^';
                        if (not)
                        {
                            pattern = pattern[1..];
                        }

                        var match = false;
                        while (true)
                        {
                            if (pattern.Length == 0)
                            {
                                break; // unterminated class: Redis treats the end as the closing bracket
                            }

                            if (pattern[0] == (byte)'\\' && pattern.Length >= 2)
                            {
                                pattern = pattern[1..];
                                match |= Equal(pattern[0], text[0], ignoreCase);
                            }
                            else if (pattern[0] == (byte)']')
                            {
                                break;
                            }
                            else if (pattern.Length >= 3 && pattern[1] == (byte)'-')
                            {
                                int start = pattern[0], end = pattern[2], c = text[0];
                                if (start > end)
                                {
                                    (start, end) = (end, start);
                                }

                                if (ignoreCase)
                                {
                                    start = Lower(start);
                                    end = Lower(end);
                                    c = Lower(c);
                                }

                                pattern = pattern[2..];
                                match |= c >= start && c <= end;
                            }
                            else
                            {
                                match |= Equal(pattern[0], text[0], ignoreCase);
                            }

                            pattern = pattern[1..];
                        }

                        if (not)
                        {
                            match = !match;
                        }

                        if (!match)
                        {
                            return false;
                        }

                        text = text[1..];
                        if (pattern.Length == 0)
                        {
                            return text.Length == 0;
                        }

                        break;
                    }

                case (byte)'\\' when pattern.Length >= 2:
                    pattern = pattern[1..];
                    if (text.Length == 0 || !Equal(pattern[0], text[0], ignoreCase))
                    {
                        return false;
                    }

                    text = text[1..];
                    break;
                default:
                    if (text.Length == 0 || !Equal(pattern[0], text[0], ignoreCase))
                    {
                        return false;
                    }

                    text = text[1..];
                    break;
            }

            pattern = pattern[1..];
        }

        return text.Length == 0;
    }

    private static bool Equal(byte a, byte b, bool ignoreCase) => a == b || (ignoreCase && Lower(a) == Lower(b));

    private static int Lower(int c) => c is >= 'A' and <= 'Z' ? c | 0x20 : c;
}
