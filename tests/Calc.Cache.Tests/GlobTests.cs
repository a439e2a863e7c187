using System.Diagnostics;
using System.Text;
using Calc.Cache.Protocol;

namespace Calc.Cache.Tests;

/// <summary>
/// The glob matcher on its own: Redis 7.0.15's answers (each case here was checked against redis-server, and
/// <see cref="GlobAgainstRedisTests"/> re-checks a set of them live), and patterns that made the old recursive matcher
/// exponential.
/// </summary>
public class GlobTests
{
    /// <summary>Generous for a 2-core machine shared with other builds: the linear matcher needs milliseconds.</summary>
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(2);

    [Theory]
    [InlineData("**", "", false)] // an empty text matches only the empty pattern (KEYS/SCAN treat "*" alone as "all")
    [InlineData("", "", true)]
    [InlineData("*", "", false)]
    [InlineData("**", "a", true)]
    [InlineData("?", "*", true)]
    [InlineData("?", "ab", false)]
    [InlineData("[", "a", false)]
    [InlineData("[^", "a", true)] // unterminated negated class: any one byte
    [InlineData("a[", "a", false)]
    [InlineData("a[^", "a]", true)]
    [InlineData("a[a-]", "a]", true)] // "a-]" is a range from ']' to 'a', and the class is unterminated
    [InlineData("a[a-]", "aB", false)]
    [InlineData("a[]", "a]", false)] // "]" right after "[" closes an empty class
    [InlineData("a[]]", "a]", false)]
    [InlineData("a[\\]", "a]", true)] // escaped ']' in an unterminated class
    [InlineData("a\\", "a\\", true)] // a trailing backslash is literal
    [InlineData("a\\", "a", false)]
    [InlineData("a[b-a]", "aa", true)] // reversed range
    [InlineData("a[b-a]", "aB", false)]
    [InlineData("a[\\B]", "aB", true)]
    [InlineData("a[!]", "ab", false)] // '!' is not negation in Redis
    [InlineData("a[!]", "a!", true)]
    [InlineData("*a*b", "xaxxb", true)]
    [InlineData("*a*b", "xbxxa", false)]
    [InlineData("a*", "a", true)]
    [InlineData("a*b*c", "abc", true)]
    [InlineData("a*b*c", "ab", false)]
    [InlineData("*.txt", "notes.txt.bak", false)]
    [InlineData("h[^a-c]llo", "hdllo", true)]
    [InlineData("h[^a-c]llo", "hbllo", false)]
    public void Glob_matches_as_redis_does_at_the_edges(string pattern, string text, bool expected) =>
        Glob.IsMatch(Encoding.ASCII.GetBytes(pattern), Encoding.ASCII.GetBytes(text)).ShouldBe(expected, $"'{pattern}' on '{text}'");

    [Theory]
    [InlineData("[M]axmemory", "maxmemory", true)]
    [InlineData("[\\M]axmemory", "maxmemory", false)] // an escape inside a class compares exactly, even ignoring case
    [InlineData("[L-M]axmemory", "maxmemory", true)]
    [InlineData("[Z-a]axmemory", "maxmemory", false)] // swapped to Z..a, then lowered to z..a: empty
    [InlineData("MAX*", "maxmemory", true)]
    [InlineData("max\\Memory", "maxmemory", true)]
    public void Ignoring_case_follows_redis_for_classes_and_escapes(string pattern, string text, bool expected) =>
        Glob.IsMatch(Encoding.ASCII.GetBytes(pattern), Encoding.ASCII.GetBytes(text), ignoreCase: true).ShouldBe(expected);

    [Fact]
    public void More_than_a_thousand_stars_before_the_end_never_match_as_in_redis()
    {
        var text = Encoding.ASCII.GetBytes(new string('a', 2000));

        Glob.IsMatch(Repeat("*a", 1000), text).ShouldBeTrue();
        Glob.IsMatch(Repeat("*a", 1001), text).ShouldBeFalse();
        Glob.IsMatch(Repeat("a*", 1001), text).ShouldBeTrue(); // the 1001st star is the last byte: it does not count
        Glob.IsMatch(Repeat("a*", 1002), text).ShouldBeFalse();
    }

    [Fact]
    public void The_pattern_from_the_report_fails_fast_on_a_forty_byte_key()
    {
        var pattern = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("a*", 20)) + "b");
        var key = Encoding.ASCII.GetBytes(new string('a', 40));

        var elapsed = Measure(() => Glob.IsMatch(pattern, key).ShouldBeFalse());

        elapsed.ShouldBeLessThan(Budget);
    }

    [Theory]
    [InlineData("*a", 1000, "b")] // a thousand stars, each followed by a literal, then a byte the key lacks
    [InlineData("*", 1_000_000, "b")] // one run of a million stars
    [InlineData("*?", 1000, "b")]
    [InlineData("a*", 999, "[b]")]
    [InlineData("*[a-z]", 1000, "\\b")]
    public void Many_star_patterns_fail_fast_on_a_100_kb_key(string unit, int times, string tail)
    {
        var pattern = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat(unit, times)) + tail);
        var key = Encoding.ASCII.GetBytes(new string('a', 100 * 1024));

        var elapsed = Measure(() => Glob.IsMatch(pattern, key).ShouldBeFalse());

        elapsed.ShouldBeLessThan(Budget);
    }

    [Fact]
    public void Many_stars_that_do_match_a_100_kb_key_are_found_fast()
    {
        var pattern = Repeat("*a", 1000);
        var key = Encoding.ASCII.GetBytes(new string('a', 100 * 1024));

        var elapsed = Measure(() => Glob.IsMatch(pattern, key).ShouldBeTrue());

        elapsed.ShouldBeLessThan(Budget);
    }

    [Theory]
    [InlineData("[a-cx\\]]", "a")]
    [InlineData("[^a-cx]", "x")]
    [InlineData("[L-M\\Mq]", "q")]
    [InlineData("[Z-a]", "Z-a")]
    [InlineData("[^\\B-]", "\\B")]
    public void A_class_long_enough_to_be_precomputed_matches_exactly_the_bytes_its_short_form_matches(string shortClass, string filler)
    {
        // Repeating a member inside the class does not change what it matches, only its length.
        var insertAt = shortClass.StartsWith("[^", StringComparison.Ordinal) ? 2 : 1;
        var longClass = shortClass.Insert(insertAt, string.Concat(Enumerable.Repeat(filler, Glob.LongElement)));
        foreach (var ignoreCase in new[] { false, true })
        {
            var shortGlob = Glob.Compile(Encoding.ASCII.GetBytes(shortClass + "!"), ignoreCase);
            var longGlob = Glob.Compile(Encoding.ASCII.GetBytes(longClass + "!"), ignoreCase);
            for (var c = 0; c < 256; c++)
            {
                byte[] text = [(byte)c, (byte)'!'];
                longGlob.IsMatch(text).ShouldBe(shortGlob.IsMatch(text), $"'{longClass}' on byte {c}, ignoreCase {ignoreCase}");
            }
        }
    }

    [Fact]
    public void A_pattern_of_megabytes_is_read_once_per_command_not_once_per_key()
    {
        // 4 MB of stars, a 4 MB class and 4 MB of literals: re-reading them for each of 20,000 keys would take hours.
        var pattern = Encoding.ASCII.GetBytes(new string('*', 4 << 20) + "[" + new string('x', 4 << 20) + "]" + new string('y', 4 << 20));
        var keys = Enumerable.Range(0, 20_000).Select(i => Encoding.ASCII.GetBytes($"user:{i}:" + new string('x', 30))).ToArray();

        var elapsed = Measure(() =>
        {
            var glob = Glob.Compile(pattern);
            keys.Count(k => glob.IsMatch(k)).ShouldBe(0);
        });

        elapsed.ShouldBeLessThan(Budget);
    }

    private static byte[] Repeat(string unit, int times) => Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat(unit, times)));

    private static TimeSpan Measure(Action action)
    {
        var watch = Stopwatch.StartNew();
        action();
        return watch.Elapsed;
    }
}
