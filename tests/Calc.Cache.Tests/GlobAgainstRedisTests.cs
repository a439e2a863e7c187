using System.Diagnostics;
using Calc.Testing;
using StackExchange.Redis;

namespace Calc.Cache.Tests;

/// <summary>
/// Every glob caller (KEYS, SCAN MATCH, CONFIG GET) against a real redis-server with the same keys and patterns, and
/// the pathological patterns over real sockets: they answer, and other connections keep being served.
/// </summary>
public class GlobAgainstRedisTests(CacheServerFixture server, RedisServer redis)
{
    private static readonly string[] Texts =
    [
        "a", "aB", "a]", "*", "?", "[", "abc", "a\\", "a!", "ab", "aa", "xaxxb", "xbxxa", "hello", "hallo", "hdllo",
        "user:42:name", "a-b", "a^", "notes.txt.bak", new string('a', 2000), new string('a', 40),
    ];

    private static readonly string[] Patterns =
    [
        "*", "**", "?", "??", "[", "[^", "a[", "a[^", "a[a-]", "a[]", "a[]]", "a[\\]", "a\\", "a\\\\", "a[b-a]",
        "a[\\B]", "a[!]", "a[!b]", "a[\\^]", "a[-]", "a[-b]", "*a*b", "a*", "a*b*c", "*.txt", "h[^a-c]llo", "h[ae]llo",
        "h[a-c]llo", "a\\*b", "user:*:name", "\\a", "[a-]b", "a[^a-z]", "*[", "*\\", "?*?", "*?*?*?",
        string.Concat(Enumerable.Repeat("*a", 1000)), string.Concat(Enumerable.Repeat("*a", 1001)),
        string.Concat(Enumerable.Repeat("a*", 1001)), string.Concat(Enumerable.Repeat("a*", 1002)),
        string.Concat(Enumerable.Repeat("a*", 20)) + "b",

        // Star runs and classes long enough to be precomputed.
        new string('*', 100) + "b", "a" + new string('*', 100), "a[" + string.Concat(Enumerable.Repeat("cdefg", 20)) + "B]",
        "a[^" + string.Concat(Enumerable.Repeat("cdefg", 20)) + "]", "a[" + string.Concat(Enumerable.Repeat("A-C", 30)) + "]*",
        "a[" + string.Concat(Enumerable.Repeat("\\]", 40)) + "]", "a[" + string.Concat(Enumerable.Repeat("x", 100)),
    ];

    [Fact]
    public async Task Keys_and_scan_match_return_what_redis_returns_for_every_pattern()
    {
        var prefix = Tools.UniquePrefix() + ":";
        await using var ourConnection = await Clients.ConnectAsync(server.Port);
        await using var theirConnection = await Clients.ConnectAsync(redis.Port);
        var ours = ourConnection.GetDatabase();
        var theirs = theirConnection.GetDatabase();
        foreach (var text in Texts)
        {
            await ours.StringSetAsync(prefix + text, "1");
            await theirs.StringSetAsync(prefix + text, "1");
        }

        foreach (var pattern in Patterns)
        {
            var expected = Sorted(await KeysAsync(theirs, prefix + pattern));

            Sorted(await KeysAsync(ours, prefix + pattern)).ShouldBe(expected, $"KEYS '{Shorten(pattern)}'");
            Sorted(await ours.ScanAllAsync(prefix + pattern)).ShouldBe(expected, $"SCAN MATCH '{Shorten(pattern)}'");
        }
    }

    [Fact]
    public async Task Config_get_finds_the_names_redis_finds_ignoring_case()
    {
        await using var ourConnection = await Clients.ConnectAsync(server.Port);
        await using var theirConnection = await Clients.ConnectAsync(redis.Port);
        var ours = ourConnection.GetDatabase();
        var theirs = theirConnection.GetDatabase();
        var known = ConfigNames(await ours.ExecuteAsync("CONFIG", "GET", "*")).ToHashSet(StringComparer.Ordinal);
        // Compared on the names both servers have: ours (lua-max-memory, keys-max-scan, ...) are not redis's.
        var theirKnown = ConfigNames(await theirs.ExecuteAsync("CONFIG", "GET", "*")).ToHashSet(StringComparer.Ordinal);

        var longClasses = new[]
        {
            "[" + string.Concat(Enumerable.Repeat("L-M", 30)) + "]axmemory", "[" + string.Concat(Enumerable.Repeat("\\M", 40)) + "]axmemory",
            "[" + string.Concat(Enumerable.Repeat("Z-a", 30)) + "]axmemory", "[^" + string.Concat(Enumerable.Repeat("N-Z", 30)) + "]axmemory",
            new string('*', 100) + "MEMORY", "[" + string.Concat(Enumerable.Repeat("m", 100)) + "]AXCLIENTS",
        };
        foreach (var pattern in longClasses.Concat(["MAXMEMORY", "[\\M]axmemory", "[M]axmemory", "max\\Memory", "[L-M]axmemory", "[Z-a]axmemory", "MAX*", "*MEMORY*", "m?xclients", "[mp]ort", "[^p]ort", "port", "Port"]))
        {
            var redisNames = ConfigNames(await theirs.ExecuteAsync("CONFIG", "GET", pattern))
                .Where(n => known.Contains(n.ToLowerInvariant())).Order(StringComparer.Ordinal);

            ConfigNames(await ours.ExecuteAsync("CONFIG", "GET", pattern)).Where(n => theirKnown.Contains(n.ToLowerInvariant())).Order(StringComparer.Ordinal)
                .ShouldBe(redisNames, $"CONFIG GET '{pattern}'");
        }
    }

    [Fact]
    public async Task Keys_with_the_reported_pattern_answers_and_another_connection_still_gets_pong()
    {
        var prefix = Tools.UniquePrefix();
        await using var clientConnection = await Clients.ConnectAsync(server.Port);
        await using var otherConnection = await Clients.ConnectAsync(server.Port);
        var client = clientConnection.GetDatabase();
        var other = otherConnection.GetDatabase();
        await client.StringSetAsync(prefix + new string('a', 40), "1");
        await client.StringSetAsync(prefix + new string('a', 100 * 1024), "1");
        var watch = Stopwatch.StartNew();

        var reported = KeysAsync(client, prefix + string.Concat(Enumerable.Repeat("a*", 20)) + "b");
        var manyStars = KeysAsync(client, prefix + string.Concat(Enumerable.Repeat("*a", 1000)) + "b");
        var megabytes = KeysAsync(client, prefix + new string('*', 4 << 20) + "[" + new string('a', 4 << 20) + "]b");
        var pong = (await other.ExecuteAsync("PING")).Text();

        (await reported).ShouldBeEmpty();
        (await manyStars).ShouldBeEmpty();
        (await megabytes).ShouldBeEmpty();
        pong.ShouldBe("PONG");
        watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(3)); // 8 MB of pattern to send and compile, on a shared machine
    }

    private static async Task<string[]> KeysAsync(IDatabase db, string pattern) =>
        [.. (await db.ExecuteAsync("KEYS", pattern)).Elements().Select(k => k.Text()!)];

    private static string[] Sorted(IEnumerable<string> keys) => [.. keys.Distinct().Order(StringComparer.Ordinal)];

    private static string Shorten(string pattern) => pattern.Length > 40 ? pattern[..40] + $"... ({pattern.Length} bytes)" : pattern;

    /// <summary>The names of a CONFIG GET reply (RESP2: name, value, name, value, ...).</summary>
    private static IEnumerable<string> ConfigNames(RedisResult reply) =>
        reply.Elements().Where((_, i) => i % 2 == 0).Select(e => e.Text()!);
}
