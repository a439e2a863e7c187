using System.Globalization;
using Calc.Testing;
using StackExchange.Redis;

namespace Calc.Cache.Tests;

/// <summary>
/// StackExchange.Redis, an ordinary outside client, runs the same operations on lists, sets, sorted sets, bitmaps
/// and expiry against our server and against a real redis-server; every answer (or error text) must be the same.
/// Unordered answers (set members, random picks) are compared sorted or by their count.
/// </summary>
public class DataTypesAgainstRedisTests(CacheServerFixture server, RedisServer redis)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public static TheoryData<string> Families => new() { "lists", "sets", "sorted-sets", "bitmaps-and-strings", "keys-and-expiry", "wrong-types" };

    [Theory]
    [MemberData(nameof(Families))]
    public async Task StackExchange_Redis_gets_the_same_answers_as_from_redis(string family)
    {
        var prefix = Tools.UniquePrefix();
        var ours = await RunAsync(server.Port, family, prefix);
        var theirs = await RunAsync(redis.Port, family, prefix);

        ours.ShouldNotBeEmpty();
        string.Join("\n", ours).ShouldBe(string.Join("\n", theirs), $"family '{family}'");
    }

    private static async Task<List<string>> RunAsync(int port, string family, string prefix)
    {
        var options = new ConfigurationOptions
        {
            EndPoints = { { "127.0.0.1", port } },
            ConfigurationChannel = string.Empty, // no pub/sub channel: this test is about data types
            AbortOnConnectFail = true,
            ConnectTimeout = 5000,
            SyncTimeout = 10000,
        };
        await using var connection = await ConnectionMultiplexer.ConnectAsync(options);
        var db = connection.GetDatabase();
        var log = new List<string>();
        var run = new Transcript(log);
        switch (family)
        {
            case "lists": await ListsAsync(db, prefix, run); break;
            case "sets": await SetsAsync(db, prefix, run); break;
            case "sorted-sets": await SortedSetsAsync(db, prefix, run); break;
            case "bitmaps-and-strings": await BitmapsAsync(db, prefix, run); break;
            case "keys-and-expiry": await KeysAsync(db, prefix, run); break;
            default: await WrongTypesAsync(db, prefix, run); break;
        }

        return log;
    }

    private static async Task ListsAsync(IDatabase db, string p, Transcript t)
    {
        var k = p + ":list";
        await t.Do("rpush", () => db.ListRightPushAsync(k, ["a", "b", "c", "d"]));
        await t.Do("lpush", () => db.ListLeftPushAsync(k, ["z", "y"]));
        await t.Do("lrange", () => db.ListRangeAsync(k));
        await t.Do("lrange-neg", () => db.ListRangeAsync(k, -3, -2));
        await t.Do("llen", () => db.ListLengthAsync(k));
        await t.Do("lindex", () => db.ListGetByIndexAsync(k, -1));
        await t.Do("lindex-out", () => db.ListGetByIndexAsync(k, 100));
        await t.Do("lset", async () => { await db.ListSetByIndexAsync(k, 1, "Y"); return "ok"; });
        await t.Do("lset-out", async () => { await db.ListSetByIndexAsync(k, 100, "Y"); return "ok"; });
        await t.Do("lpop", () => db.ListLeftPopAsync(k));
        await t.Do("rpop-count", () => db.ListRightPopAsync(k, 2));
        await t.Do("rpush-dup", () => db.ListRightPushAsync(k, ["x", "a", "x", "b", "x"]));
        await t.Do("lrem", () => db.ListRemoveAsync(k, "x", -2));
        await t.Do("lpos", () => db.ListPositionAsync(k, "a"));
        await t.Do("lpos-rank", () => db.ListPositionAsync(k, "x", rank: -1));
        await t.Do("lpos-count", () => db.ListPositionsAsync(k, "a", 0));
        await t.Do("linsert-before", () => db.ListInsertBeforeAsync(k, "b", "B"));
        await t.Do("linsert-after-missing", () => db.ListInsertAfterAsync(k, "nope", "B"));
        await t.Do("ltrim", async () => { await db.ListTrimAsync(k, 1, -2); return "ok"; });
        await t.Do("after-trim", () => db.ListRangeAsync(k));
        await t.Do("lmove", () => db.ListMoveAsync(k, k + ":2", ListSide.Left, ListSide.Right));
        await t.Do("rpoplpush", () => db.ListRightPopLeftPushAsync(k, k + ":2"));
        await t.Do("dest", () => db.ListRangeAsync(k + ":2"));
        await t.Do("pushx-missing", () => db.ListLeftPushAsync(k + ":none", "v", When.Exists));
        await t.Do("pushx", () => db.ListRightPushAsync(k + ":2", "v", When.Exists));
        await t.Do("pop-missing", () => db.ListLeftPopAsync(k + ":none"));
        await t.Do("pop-count-missing", () => db.ListLeftPopAsync(k + ":none", 3));
        await t.Do("type", () => db.KeyTypeAsync(k + ":2"));
        await t.Do("encoding", () => db.ExecuteAsync("OBJECT", "ENCODING", k + ":2"));
        await t.Do("drain", () => db.ListLeftPopAsync(k + ":2", 100));
        await t.Do("emptied-exists", () => db.KeyExistsAsync(k + ":2"));
        await t.Do("lpop-negative", () => db.ExecuteAsync("LPOP", k, "-1"));
        await t.Do("lmove-bad-side", () => db.ExecuteAsync("LMOVE", k, k, "UP", "LEFT"));
        await t.Do("blpop-ready", () => db.ExecuteAsync("BLPOP", k + ":none", k, "1"));
        await t.Do("blpop-timeout", () => db.ExecuteAsync("BLPOP", k + ":none", "0.01"));
        await t.Do("blpop-negative", () => db.ExecuteAsync("BLPOP", k, "-1"));
        await t.Do("blmove-ready", () => db.ExecuteAsync("BLMOVE", k, k + ":3", "RIGHT", "LEFT", "1"));
    }

    private static async Task SetsAsync(IDatabase db, string p, Transcript t)
    {
        var a = p + ":a";
        var b = p + ":b";
        await t.Do("sadd-ints", () => db.SetAddAsync(a, ["1", "2", "3"]));
        await t.Do("encoding-intset", () => db.ExecuteAsync("OBJECT", "ENCODING", a));
        await t.Do("sadd", () => db.SetAddAsync(a, ["x", "2"]));
        await t.Do("encoding-hashtable", () => db.ExecuteAsync("OBJECT", "ENCODING", a));
        await t.Do("sadd-b", () => db.SetAddAsync(b, ["2", "x", "y"]));
        await t.Do("smembers", async () => Sorted(await db.SetMembersAsync(a)));
        await t.Do("scard", () => db.SetLengthAsync(a));
        await t.Do("sismember", () => db.SetContainsAsync(a, "x"));
        await t.Do("smismember", () => db.SetContainsAsync(a, ["x", "nope", "1"]));
        await t.Do("srem", () => db.SetRemoveAsync(a, ["1", "nope"]));
        await t.Do("sinter", async () => Sorted(await db.SetCombineAsync(SetOperation.Intersect, a, b)));
        await t.Do("sunion", async () => Sorted(await db.SetCombineAsync(SetOperation.Union, a, b)));
        await t.Do("sdiff", async () => Sorted(await db.SetCombineAsync(SetOperation.Difference, a, b)));
        await t.Do("sunionstore", () => db.SetCombineAndStoreAsync(SetOperation.Union, p + ":u", a, b));
        await t.Do("stored", async () => Sorted(await db.SetMembersAsync(p + ":u")));
        await t.Do("sinterstore-empty", () => db.SetCombineAndStoreAsync(SetOperation.Intersect, p + ":u", a, p + ":none"));
        await t.Do("stored-gone", () => db.KeyExistsAsync(p + ":u"));
        await t.Do("sintercard", () => db.SetIntersectionLengthAsync([a, b]));
        await t.Do("sintercard-limit", () => db.SetIntersectionLengthAsync([a, b], 1));
        await t.Do("smove", () => db.SetMoveAsync(a, b, "3"));
        await t.Do("smove-missing", () => db.SetMoveAsync(a, b, "nope"));
        await t.Do("srandmember-count", async () => (await db.SetRandomMembersAsync(b, 10)).Length);
        await t.Do("srandmember-negative", async () => (await db.SetRandomMembersAsync(b, -7)).Length);
        await t.Do("srandmember-member", async () => (await db.SetContainsAsync(b, (await db.SetRandomMemberAsync(b))!)));
        await t.Do("sscan", async () => Sorted(await ToListAsync(db.SetScanAsync(b, pageSize: 2))));
        await t.Do("sscan-match", async () => Sorted(await ToListAsync(db.SetScanAsync(b, "x*"))));
        await t.Do("spop", async () => (await db.SetPopAsync(a, 10)).Length);
        await t.Do("popped-gone", () => db.KeyExistsAsync(a));
        await t.Do("spop-missing", () => db.SetPopAsync(a));
        await t.Do("type", () => db.KeyTypeAsync(b));
        await t.Do("sintercard-zero", () => db.ExecuteAsync("SINTERCARD", "0", a));
        await t.Do("spop-negative", () => db.ExecuteAsync("SPOP", b, "-1"));
    }

    private static async Task SortedSetsAsync(IDatabase db, string p, Transcript t)
    {
        var z = p + ":z";
        await t.Do("zadd", () => db.SortedSetAddAsync(z, [new("a", 1), new("b", 2), new("c", 3), new("d", 0.1)]));
        await t.Do("zadd-nx", () => db.SortedSetAddAsync(z, "a", 10, SortedSetWhen.NotExists));
        await t.Do("zadd-gt", () => db.SortedSetAddAsync(z, "b", 5, SortedSetWhen.GreaterThan));
        await t.Do("zadd-lt-miss", () => db.SortedSetAddAsync(z, "c", 9, SortedSetWhen.LessThan));
        await t.Do("zadd-ch", () => db.ExecuteAsync("ZADD", z, "CH", "1", "a", "7", "c", "8", "e"));
        await t.Do("zadd-incr", () => db.ExecuteAsync("ZADD", z, "INCR", "2.5", "a"));
        await t.Do("zadd-xx-incr-missing", () => db.ExecuteAsync("ZADD", z, "XX", "INCR", "1", "nope"));
        await t.Do("zadd-nx-xx", () => db.ExecuteAsync("ZADD", z, "NX", "XX", "1", "a"));
        await t.Do("zadd-nan", () => db.ExecuteAsync("ZADD", z, "nan", "a"));
        await t.Do("zrange", () => db.SortedSetRangeByRankWithScoresAsync(z));
        await t.Do("zrevrange", () => db.SortedSetRangeByRankAsync(z, 0, 2, Order.Descending));
        await t.Do("zscore", () => db.SortedSetScoreAsync(z, "d"));
        await t.Do("zscore-raw", () => db.ExecuteAsync("ZSCORE", z, "d"));
        await t.Do("zmscore", () => db.SortedSetScoresAsync(z, ["a", "nope", "c"]));
        await t.Do("zincrby", () => db.SortedSetIncrementAsync(z, "d", 0.2));
        await t.Do("zcard", () => db.SortedSetLengthAsync(z));
        await t.Do("zcount", () => db.SortedSetLengthAsync(z, 1, 7, Exclude.Start));
        await t.Do("zrangebyscore", () => db.SortedSetRangeByScoreWithScoresAsync(z, 1, double.PositiveInfinity, Exclude.None, Order.Ascending, 1, 2));
        await t.Do("zrevrangebyscore", () => db.SortedSetRangeByScoreAsync(z, double.NegativeInfinity, 7, Exclude.Stop, Order.Descending));
        await t.Do("zrank", () => db.SortedSetRankAsync(z, "c"));
        await t.Do("zrevrank", () => db.SortedSetRankAsync(z, "c", Order.Descending));
        await t.Do("zrank-missing", () => db.SortedSetRankAsync(z, "nope"));
        await t.Do("zrange-byscore-rev-limit", () => db.ExecuteAsync("ZRANGE", z, "+inf", "(1", "BYSCORE", "REV", "LIMIT", "0", "2", "WITHSCORES"));
        await t.Do("zrange-limit-error", () => db.ExecuteAsync("ZRANGE", z, "0", "1", "LIMIT", "0", "1"));
        await t.Do("zrangestore", () => db.SortedSetRangeAndStoreAsync(z, p + ":copy", 0, 2));
        await t.Do("copied", () => db.SortedSetRangeByRankWithScoresAsync(p + ":copy"));
        var lex = p + ":lex";
        await t.Do("zadd-lex", () => db.SortedSetAddAsync(lex, [new("a", 0), new("b", 0), new("c", 0), new("d", 0), new("e", 0)]));
        await t.Do("zrangebylex", () => db.SortedSetRangeByValueAsync(lex, "b", "d", Exclude.Stop));
        await t.Do("zrevrangebylex", () => db.SortedSetRangeByValueAsync(lex, "b", default, Exclude.None, Order.Descending));
        await t.Do("zlexcount", () => db.SortedSetLengthByValueAsync(lex, "a", "c"));
        await t.Do("zremrangebylex", () => db.SortedSetRemoveRangeByValueAsync(lex, "a", "b"));
        await t.Do("zrangebylex-bad", () => db.ExecuteAsync("ZRANGEBYLEX", lex, "a", "b"));
        await t.Do("zpopmin", () => db.SortedSetPopAsync(z));
        await t.Do("zpopmax", () => db.SortedSetPopAsync(z, 2, Order.Descending));
        await t.Do("zrem", () => db.SortedSetRemoveAsync(z, ["c", "nope"]));
        var z1 = p + ":z1";
        var z2 = p + ":z2";
        await t.Do("z1", () => db.SortedSetAddAsync(z1, [new("a", 1), new("b", 2), new("c", 3)]));
        await t.Do("z2", () => db.SortedSetAddAsync(z2, [new("b", 10), new("c", 20), new("d", 30)]));
        await t.Do("zunion", () => db.SortedSetCombineWithScoresAsync(SetOperation.Union, [z1, z2]));
        await t.Do("zinter-weights-max", () => db.SortedSetCombineWithScoresAsync(SetOperation.Intersect, [z1, z2], [2, 0.5], Aggregate.Max));
        await t.Do("zdiff", () => db.SortedSetCombineWithScoresAsync(SetOperation.Difference, [z1, z2]));
        await t.Do("zunionstore-min", () => db.SortedSetCombineAndStoreAsync(SetOperation.Union, p + ":u", [z1, z2], null, Aggregate.Min));
        await t.Do("stored", () => db.SortedSetRangeByRankWithScoresAsync(p + ":u"));
        await t.Do("zinterstore", () => db.SortedSetCombineAndStoreAsync(SetOperation.Intersect, p + ":i", z1, z2));
        await t.Do("zdiffstore", () => db.SortedSetCombineAndStoreAsync(SetOperation.Difference, p + ":d", z2, z1));
        await t.Do("zintercard", () => db.SortedSetIntersectionLengthAsync([z1, z2]));
        await t.Do("zunion-zero", () => db.ExecuteAsync("ZUNION", "0", z1));
        await t.Do("zinterstore-bad-weight", () => db.ExecuteAsync("ZINTERSTORE", p + ":i", "2", z1, z2, "WEIGHTS", "1", "x"));
        await t.Do("zremrangebyscore", () => db.SortedSetRemoveRangeByScoreAsync(p + ":u", 2, 3));
        await t.Do("zremrangebyrank", () => db.SortedSetRemoveRangeByRankAsync(p + ":u", 0, 0));
        await t.Do("left", () => db.SortedSetRangeByRankWithScoresAsync(p + ":u"));
        await t.Do("zscan", async () => Sorted((await ToListAsync(db.SortedSetScanAsync(z2, pageSize: 1))).Select(e => $"{e.Element}={e.Score}")));
        await t.Do("zrandmember", async () => (await db.SortedSetRandomMembersAsync(z2, -5)).Length);
        await t.Do("encoding", () => db.ExecuteAsync("OBJECT", "ENCODING", z2));
        await t.Do("infinities", () => db.SortedSetAddAsync(p + ":inf", [new("p", double.PositiveInfinity), new("n", double.NegativeInfinity), new("x", 1e20)]));
        await t.Do("infinities-raw", () => db.ExecuteAsync("ZRANGE", p + ":inf", "0", "-1", "WITHSCORES"));
        await t.Do("type", () => db.KeyTypeAsync(z2));
    }

    private static async Task BitmapsAsync(IDatabase db, string p, Transcript t)
    {
        var k = p + ":bits";
        await t.Do("setbit", () => db.StringSetBitAsync(k, 7, true));
        await t.Do("setbit-far", () => db.StringSetBitAsync(k, 100, true));
        await t.Do("setbit-again", () => db.StringSetBitAsync(k, 7, false));
        await t.Do("getbit", () => db.StringGetBitAsync(k, 100));
        await t.Do("getbit-out", () => db.StringGetBitAsync(k, 100000));
        await t.Do("bitcount", () => db.StringBitCountAsync(k));
        await t.Do("bitcount-bits", () => db.StringBitCountAsync(k, 0, 99, StringIndexType.Bit));
        await t.Do("bitpos", () => db.StringBitPositionAsync(k, true));
        await t.Do("bitpos-zero", () => db.StringBitPositionAsync(k, false));
        await t.Do("bitpos-range", () => db.StringBitPositionAsync(k, true, 0, 50, StringIndexType.Bit));
        await t.Do("set-other", () => db.StringSetAsync(p + ":o", "abc"));
        await t.Do("bitop-or", () => db.StringBitOperationAsync(Bitwise.Or, p + ":d", k, p + ":o"));
        await t.Do("bitop-result", () => db.StringGetAsync(p + ":d"));
        await t.Do("bitop-not", () => db.StringBitOperationAsync(Bitwise.Not, p + ":d", p + ":o"));
        await t.Do("bitop-not-result", () => db.StringGetAsync(p + ":d"));
        await t.Do("bitop-xor", () => db.StringBitOperationAsync(Bitwise.Xor, p + ":d", [k, p + ":o", p + ":none"]));
        await t.Do("bit-bad", () => db.ExecuteAsync("SETBIT", k, "1", "2"));
        await t.Do("bitpos-bad", () => db.ExecuteAsync("BITPOS", k, "2"));
        await t.Do("bitop-not-two", () => db.ExecuteAsync("BITOP", "NOT", p + ":d", k, k));
        await t.Do("lcs-a", () => db.StringSetAsync(p + ":l1", "ohmytext"));
        await t.Do("lcs-b", () => db.StringSetAsync(p + ":l2", "mynewtext"));
        await t.Do("lcs", () => db.StringLongestCommonSubsequenceAsync(p + ":l1", p + ":l2"));
        await t.Do("lcs-len", () => db.StringLongestCommonSubsequenceLengthAsync(p + ":l1", p + ":l2"));
        await t.Do("lcs-idx", async () =>
        {
            var result = await db.StringLongestCommonSubsequenceWithMatchesAsync(p + ":l1", p + ":l2", 2);
            return string.Join(";", result.Matches.Select(m => $"{m.FirstStringIndex}/{m.SecondStringIndex}/{m.Length}")) + " len " + result.LongestMatchLength;
        });
        await t.Do("touch", () => db.KeyTouchAsync([k, p + ":o", p + ":none"]));
        await t.Do("hset", async () => { await db.HashSetAsync(p + ":h", [new("f1", "v1"), new("f2", "v2"), new("g", "v3")]); return "ok"; });
        await t.Do("hscan", async () => Sorted((await ToListAsync(db.HashScanAsync(p + ":h", "f*"))).Select(e => $"{e.Name}={e.Value}")));
        await t.Do("hrandfield", async () => (await db.HashRandomFieldsWithValuesAsync(p + ":h", 2)).Length);
        await t.Do("hrandfield-negative", async () => (await db.HashRandomFieldsAsync(p + ":h", -5)).Length);
        await t.Do("hrandfield-missing", () => db.HashRandomFieldAsync(p + ":none"));
        await t.Do("hash-encoding", () => db.ExecuteAsync("OBJECT", "ENCODING", p + ":h"));
    }

    private static async Task KeysAsync(IDatabase db, string p, Transcript t)
    {
        await t.Do("list", () => db.ListRightPushAsync(p + ":l", ["a", "b"]));
        await t.Do("set", () => db.SetAddAsync(p + ":s", "a"));
        await t.Do("zset", () => db.SortedSetAddAsync(p + ":z", "a", 1));
        await t.Do("expire", () => db.KeyExpireAsync(p + ":l", TimeSpan.FromSeconds(100)));
        await t.Do("ttl", async () => (await db.KeyTimeToLiveAsync(p + ":l"))?.TotalSeconds > 90);
        await t.Do("rename", () => db.KeyRenameAsync(p + ":l", p + ":l2"));
        await t.Do("renamed-type", () => db.KeyTypeAsync(p + ":l2"));
        await t.Do("renamed-ttl", async () => (await db.KeyTimeToLiveAsync(p + ":l2"))?.TotalSeconds > 90);
        await t.Do("renamed-list", () => db.ListRangeAsync(p + ":l2"));
        await t.Do("scan-type-list", () => db.ExecuteAsync("SCAN", "0", "MATCH", p + ":*", "TYPE", "list", "COUNT", "100000"));
        await t.Do("scan-type-zset", () => db.ExecuteAsync("SCAN", "0", "MATCH", p + ":*", "TYPE", "zset", "COUNT", "100000"));
        await t.Do("scan-type-set", () => db.ExecuteAsync("SCAN", "0", "MATCH", p + ":*", "TYPE", "set", "COUNT", "100000"));
        await t.Do("exists", () => db.KeyExistsAsync([p + ":l2", p + ":s", p + ":z", p + ":none"]));
        await t.Do("pexpire-short", () => db.KeyExpireAsync(p + ":s", TimeSpan.FromMilliseconds(50)));
        await Task.Delay(150, Token);
        await t.Do("expired-set", () => db.SetMembersAsync(p + ":s"));
        await t.Do("expired-exists", () => db.KeyExistsAsync(p + ":s"));
        await t.Do("persist", () => db.KeyPersistAsync(p + ":l2"));
        await t.Do("persisted-ttl", () => db.KeyTimeToLiveAsync(p + ":l2"));
        await t.Do("del", () => db.KeyDeleteAsync([p + ":l2", p + ":z", p + ":none"]));
        await t.Do("gone", () => db.KeyExistsAsync([p + ":l2", p + ":z"]));
    }

    private static async Task WrongTypesAsync(IDatabase db, string p, Transcript t)
    {
        await t.Do("string", () => db.StringSetAsync(p + ":str", "v"));
        await t.Do("list", () => db.ListRightPushAsync(p + ":list", "v"));
        await t.Do("set", () => db.SetAddAsync(p + ":set", "v"));
        await t.Do("zset", () => db.SortedSetAddAsync(p + ":zset", "v", 1));
        await t.Do("hash", () => db.HashSetAsync(p + ":hash", "f", "v"));
        await t.Do("lpush-on-string", () => db.ListLeftPushAsync(p + ":str", "x"));
        await t.Do("sadd-on-list", () => db.SetAddAsync(p + ":list", "x"));
        await t.Do("zadd-on-set", () => db.SortedSetAddAsync(p + ":set", "x", 1));
        await t.Do("hset-on-zset", () => db.HashSetAsync(p + ":zset", "f", "x"));
        await t.Do("get-on-list", () => db.StringGetAsync(p + ":list"));
        await t.Do("incr-on-set", () => db.StringIncrementAsync(p + ":set"));
        await t.Do("append-on-zset", () => db.StringAppendAsync(p + ":zset", "x"));
        await t.Do("hget-on-list", () => db.HashGetAsync(p + ":list", "f"));
        await t.Do("lrange-on-hash", () => db.ListRangeAsync(p + ":hash"));
        await t.Do("smembers-on-zset", () => db.SetMembersAsync(p + ":zset"));
        await t.Do("zrange-on-list", () => db.SortedSetRangeByRankAsync(p + ":list"));
        await t.Do("sinter-mixed", () => db.SetCombineAsync(SetOperation.Intersect, p + ":set", p + ":list"));
        await t.Do("zunion-with-set", () => db.SortedSetCombineWithScoresAsync(SetOperation.Union, [p + ":zset", p + ":set"]));
        await t.Do("zunion-with-list", () => db.SortedSetCombineWithScoresAsync(SetOperation.Union, [p + ":zset", p + ":list"]));
        await t.Do("lmove-to-string", () => db.ListMoveAsync(p + ":list", p + ":str", ListSide.Left, ListSide.Left));
        await t.Do("smove-to-list", () => db.SetMoveAsync(p + ":set", p + ":list", "v"));
        await t.Do("setbit-on-list", () => db.StringSetBitAsync(p + ":list", 1, true));
        await t.Do("bitop-from-set", () => db.StringBitOperationAsync(Bitwise.And, p + ":d", p + ":set", p + ":str"));
        await t.Do("lcs-on-list", () => db.StringLongestCommonSubsequenceAsync(p + ":list", p + ":str"));
        await t.Do("set-over-list", () => db.StringSetAsync(p + ":list", "now a string"));
        await t.Do("type-after-set", () => db.KeyTypeAsync(p + ":list"));
        await t.Do("list-still-there", () => db.ListRangeAsync(p + ":list:none"));
    }

    private static string Sorted<T>(IEnumerable<T> items) =>
        string.Join(",", items.Select(i => Convert.ToString(i, CultureInfo.InvariantCulture)).Order(StringComparer.Ordinal));

    private static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items)
        {
            list.Add(item);
        }

        return list;
    }

    /// <summary>Records each step as "name: answer" or "name: ERR text".</summary>
    private sealed class Transcript(List<string> log)
    {
        public async Task Do<T>(string name, Func<Task<T>> step)
        {
            try
            {
                log.Add($"{name}: {Show(await step())}");
            }
            catch (RedisServerException ex)
            {
                log.Add($"{name}: ERR {ex.Message}");
            }
        }

        private static string Show(object? value) => value switch
        {
            null => "(null)",
            RedisResult result => Show(result.Resp2Type == ResultType.Array ? (object?)(RedisResult[])result! : result.IsNull ? null : result.ToString()),
            RedisResult[] results => "[" + string.Join(",", results.Select(Show)) + "]",
            RedisValue v => v.IsNull ? "(null)" : v.ToString(),
            RedisValue[] values => "[" + string.Join(",", values.Select(v => Show(v))) + "]",
            SortedSetEntry e => $"{e.Element}={e.Score.ToString("R", CultureInfo.InvariantCulture)}",
            SortedSetEntry[] entries => "[" + string.Join(",", entries.Select(e => Show(e))) + "]",
            HashEntry[] entries => "[" + string.Join(",", entries.Select(e => $"{e.Name}={e.Value}")) + "]",
            double d => d.ToString("R", CultureInfo.InvariantCulture),
            double?[] ds => "[" + string.Join(",", ds.Select(d => d?.ToString("R", CultureInfo.InvariantCulture) ?? "(null)")) + "]",
            long[] ls => "[" + string.Join(",", ls) + "]",
            bool[] bs => "[" + string.Join(",", bs) + "]",
            _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "(null)",
        };
    }
}
