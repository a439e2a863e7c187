using Calc.Testing;
using StackExchange.Redis;

namespace Calc.Cache.Tests;

/// <summary>
/// StackExchange.Redis, an outside client, against a server; closed once for our server and once for a real
/// redis-server, so both are held to the same behaviour.
/// </summary>
public abstract class OutsideClientContract : IAsyncLifetime
{
    private readonly int _port;
    private ConnectionMultiplexer _redis = null!;
    private IDatabase _db = null!;

    protected OutsideClientContract(int port) => _port = port;

    public async ValueTask InitializeAsync()
    {
        _redis = await Clients.ConnectAsync(_port, o => o.ClientName = "contract");
        _db = _redis.GetDatabase();
    }

    public async ValueTask DisposeAsync()
    {
        await _redis.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task Ping_returns_pong() => (await _db.ExecuteAsync("PING")).Text().ShouldBe("PONG");

    [Fact]
    public async Task Set_then_get_round_trips_text_and_binary()
    {
        var key = Tools.UniquePrefix();
        byte[] binary = [0, 1, 2, 13, 10, 255];

        (await _db.StringSetAsync(key, "héllo")).ShouldBeTrue();
        ((string?)await _db.StringGetAsync(key)).ShouldBe("héllo");
        await _db.StringSetAsync(key + ":bin", binary);
        ((byte[]?)await _db.StringGetAsync(key + ":bin")).ShouldBe(binary);
        ((string?)await _db.StringGetAsync(key + ":missing")).ShouldBeNull();
    }

    [Fact]
    public async Task Set_with_conditions_reports_whether_it_wrote()
    {
        var key = Tools.UniquePrefix();

        (await _db.StringSetAsync(key, "a", when: When.Exists)).ShouldBeFalse();
        (await _db.StringSetAsync(key, "b", when: When.NotExists)).ShouldBeTrue();
        (await _db.StringSetAsync(key, "c", when: When.NotExists)).ShouldBeFalse();
        ((string?)await _db.StringGetAsync(key)).ShouldBe("b");
    }

    [Fact]
    public async Task Expiry_is_reported_by_ttl_and_removes_the_key()
    {
        var key = Tools.UniquePrefix();

        await _db.StringSetAsync(key, "v", TimeSpan.FromSeconds(100));
        (await _db.ExecuteAsync("TTL", key)).Integer().ShouldBeInRange(99, 100);
        // A second, not less: on a loaded machine the PTTL right after the SET can come later than 100 ms.
        await _db.StringSetAsync(key + ":short", "v", TimeSpan.FromSeconds(1));
        (await _db.ExecuteAsync("PTTL", key + ":short")).Integer().ShouldBeInRange(1, 1000);
        await Task.Delay(1500, TestContext.Current.CancellationToken);
        ((string?)await _db.StringGetAsync(key + ":short")).ShouldBeNull();
        (await _db.ExecuteAsync("TTL", key + ":short")).Integer().ShouldBe(-2);
        await _db.StringSetAsync(key + ":forever", "v");
        (await _db.ExecuteAsync("TTL", key + ":forever")).Integer().ShouldBe(-1);
        (await _db.KeyExpireAsync(key + ":forever", TimeSpan.FromSeconds(5))).ShouldBeTrue();
        (await _db.ExecuteAsync("TTL", key + ":forever")).Integer().ShouldBe(5);
    }

    [Fact]
    public async Task Mget_del_exists_and_incr_behave_like_redis()
    {
        var key = Tools.UniquePrefix();
        await _db.StringSetAsync(key + ":a", "1");
        await _db.StringSetAsync(key + ":b", "2");

        (await _db.StringGetAsync([key + ":a", key + ":x", key + ":b"])).Select(v => (string?)v).ShouldBe(["1", null, "2"]);
        (await _db.StringIncrementAsync(key + ":a", 41)).ShouldBe(42);
        (await _db.StringIncrementAsync(key + ":new")).ShouldBe(1);
        (await _db.KeyExistsAsync(key + ":b")).ShouldBeTrue();
        (await _db.KeyDeleteAsync([key + ":a", key + ":b", key + ":x"])).ShouldBe(2);
        (await _db.KeyExistsAsync(key + ":b")).ShouldBeFalse();
    }

    [Fact]
    public async Task Hash_commands_store_fields()
    {
        var key = Tools.UniquePrefix();

        (await _db.HashSetAsync(key, "url", "http://127.0.0.1:5001")).ShouldBeTrue();
        (await _db.ExecuteAsync("HSET", key, "load", "3", "url", "http://127.0.0.1:5002")).Integer().ShouldBe(1);
        ((string?)await _db.HashGetAsync(key, "url")).ShouldBe("http://127.0.0.1:5002");
        (await _db.HashGetAllAsync(key)).ToDictionary(e => (string)e.Name!, e => (string)e.Value!)
            .ShouldBe(new Dictionary<string, string> { ["url"] = "http://127.0.0.1:5002", ["load"] = "3" }, ignoreOrder: true);
        (await _db.HashDeleteAsync(key, ["load", "nope"])).ShouldBe(1);
        (await _db.HashIncrementAsync(key, "n", 5)).ShouldBe(5);
        (await _db.HashLengthAsync(key)).ShouldBe(2);
    }

    [Fact]
    public async Task Scan_and_keys_find_every_matching_key()
    {
        var prefix = Tools.UniquePrefix();
        for (var i = 0; i < 50; i++)
        {
            await _db.StringSetAsync($"{prefix}:{i}", "v");
        }

        (await _db.ScanAllAsync(prefix + ":*", 10)).ToHashSet().Count.ShouldBe(50);
        (await _db.ExecuteAsync("KEYS", prefix + ":1*")).Elements().Length.ShouldBe(11);
        // The client's own key iteration (SCAN, as the server reports a Redis 7 version) agrees.
        (await _redis.GetServers()[0].KeysAsync(pattern: prefix + ":*", pageSize: 10).CountAsync(TestContext.Current.CancellationToken)).ShouldBe(50);
    }

    [Fact]
    public async Task An_error_reply_throws_with_its_code()
    {
        var key = Tools.UniquePrefix();
        await _db.HashSetAsync(key, "f", "v");

        var error = await Should.ThrowAsync<RedisServerException>(() => _db.StringGetAsync(key));

        error.Message.ShouldBe("WRONGTYPE Operation against a key holding the wrong kind of value");
        await _db.StringSetAsync(key + ":s", "x");
        var notInteger = await Should.ThrowAsync<RedisServerException>(() => _db.StringIncrementAsync(key + ":s"));
        notInteger.Message.ShouldBe("ERR value is not an integer or out of range");
    }

    [Fact]
    public async Task Concurrent_callers_share_one_pipelined_connection()
    {
        var key = Tools.UniquePrefix();

        var results = await Task.WhenAll(Enumerable.Range(0, 2000).Select(_ => _db.StringIncrementAsync(key)));

        results.Order().ShouldBe(Enumerable.Range(1, 2000).Select(i => (long)i));
        ((string?)await _db.StringGetAsync(key)).ShouldBe("2000");
    }

    [Fact]
    public async Task Large_values_survive_the_round_trip()
    {
        var key = Tools.UniquePrefix();
        var value = new byte[3 * 1024 * 1024];
        new Random(42).NextBytes(value);

        await _db.StringSetAsync(key, value);

        ((byte[]?)await _db.StringGetAsync(key))!.AsSpan().SequenceEqual(value).ShouldBeTrue();
        (await _db.StringLengthAsync(key)).ShouldBe(value.Length);
        ((byte[]?)await _db.StringGetRangeAsync(key, 0, 0))!.Length.ShouldBe(1);
    }
}

public sealed class OutsideClientAgainstCalcCacheTests(CacheServerFixture server) : OutsideClientContract(server.Port);

public sealed class OutsideClientAgainstRedisTests(RedisServer redis) : OutsideClientContract(redis.Port);
