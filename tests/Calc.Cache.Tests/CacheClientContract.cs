using System.Text;
using Calc.Cache.Client;
using Calc.Testing;

namespace Calc.Cache.Tests;

/// <summary>
/// The client against a server; closed once for our server and once for a real redis-server, so both are held to
/// the same behaviour.
/// </summary>
public abstract class CacheClientContract : IAsyncLifetime
{
    private readonly int _port;
    private CacheClient _client = null!;

    protected CacheClientContract(int port) => _port = port;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _client = await CacheClient.ConnectAsync(new CacheClientOptions { Port = _port, ClientName = "contract" }, Token);

    public async ValueTask DisposeAsync()
    {
        await _client.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task Ping_returns_pong() => (await _client.PingAsync(Token)).ShouldBe("PONG");

    [Fact]
    public async Task Set_then_get_round_trips_text_and_binary()
    {
        var key = Tools.UniquePrefix();
        byte[] binary = [0, 1, 2, 13, 10, 255];

        (await _client.SetAsync(key, "héllo", cancellationToken: Token)).ShouldBeTrue();
        (await _client.GetAsync(key, Token)).ShouldBe("héllo");
        await _client.SetAsync(key + ":bin", binary, cancellationToken: Token);
        (await _client.GetBytesAsync(key + ":bin", Token)).ShouldBe(binary);
        (await _client.GetAsync(key + ":missing", Token)).ShouldBeNull();
    }

    [Fact]
    public async Task Set_with_conditions_reports_whether_it_wrote()
    {
        var key = Tools.UniquePrefix();

        (await _client.SetAsync(key, "a", condition: SetCondition.IfExists, cancellationToken: Token)).ShouldBeFalse();
        (await _client.SetAsync(key, "b", condition: SetCondition.IfNotExists, cancellationToken: Token)).ShouldBeTrue();
        (await _client.SetAsync(key, "c", condition: SetCondition.IfNotExists, cancellationToken: Token)).ShouldBeFalse();
        (await _client.GetAsync(key, Token)).ShouldBe("b");
    }

    [Fact]
    public async Task Expiry_is_reported_by_ttl_and_removes_the_key()
    {
        var key = Tools.UniquePrefix();

        await _client.SetAsync(key, "v", TimeSpan.FromSeconds(100), cancellationToken: Token);
        (await _client.TtlAsync(key, Token)).ShouldBeInRange(99, 100);
        await _client.SetAsync(key + ":short", "v", TimeSpan.FromMilliseconds(100), cancellationToken: Token);
        (await _client.PTtlAsync(key + ":short", Token)).ShouldBeInRange(1, 100);
        await Task.Delay(250, Token);
        (await _client.GetAsync(key + ":short", Token)).ShouldBeNull();
        (await _client.TtlAsync(key + ":short", Token)).ShouldBe(-2);
        await _client.SetAsync(key + ":forever", "v", cancellationToken: Token);
        (await _client.TtlAsync(key + ":forever", Token)).ShouldBe(-1);
        (await _client.ExpireAsync(key + ":forever", TimeSpan.FromSeconds(5), Token)).ShouldBeTrue();
        (await _client.TtlAsync(key + ":forever", Token)).ShouldBe(5);
    }

    [Fact]
    public async Task Mget_del_exists_and_incr_behave_like_redis()
    {
        var key = Tools.UniquePrefix();
        await _client.SetAsync(key + ":a", "1", cancellationToken: Token);
        await _client.SetAsync(key + ":b", "2", cancellationToken: Token);

        (await _client.GetManyAsync([key + ":a", key + ":x", key + ":b"], Token)).ShouldBe(["1", null, "2"]);
        (await _client.IncrementAsync(key + ":a", 41, Token)).ShouldBe(42);
        (await _client.IncrementAsync(key + ":new", cancellationToken: Token)).ShouldBe(1);
        (await _client.ExistsAsync(key + ":b", Token)).ShouldBeTrue();
        (await _client.DeleteAsync([key + ":a", key + ":b", key + ":x"], Token)).ShouldBe(2);
        (await _client.ExistsAsync(key + ":b", Token)).ShouldBeFalse();
    }

    [Fact]
    public async Task Hash_commands_store_fields()
    {
        var key = Tools.UniquePrefix();

        (await _client.HashSetAsync(key, "url", "http://127.0.0.1:5001", Token)).ShouldBeTrue();
        (await _client.HashSetAsync(key, [new("load", "3"), new("url", "http://127.0.0.1:5002")], Token)).ShouldBe(1);
        (await _client.HashGetAsync(key, "url", Token)).ShouldBe("http://127.0.0.1:5002");
        (await _client.HashGetAllAsync(key, Token)).ShouldBe(new Dictionary<string, string> { ["url"] = "http://127.0.0.1:5002", ["load"] = "3" }, ignoreOrder: true);
        (await _client.HashDeleteAsync(key, ["load", "nope"], Token)).ShouldBe(1);
        (await _client.ExecuteAsync("HINCRBY", [key, "n", 5], Token)).AsInt64().ShouldBe(5);
        (await _client.ExecuteAsync("HLEN", [key], Token)).AsInt64().ShouldBe(2);
    }

    [Fact]
    public async Task Scan_and_keys_find_every_matching_key()
    {
        var prefix = Tools.UniquePrefix();
        for (var i = 0; i < 50; i++)
        {
            await _client.SetAsync($"{prefix}:{i}", "v", cancellationToken: Token);
        }

        var scanned = new HashSet<string>();
        await foreach (var key in _client.ScanAsync(prefix + ":*", 10, Token))
        {
            scanned.Add(key);
        }

        scanned.Count.ShouldBe(50);
        (await _client.KeysAsync(prefix + ":1*", Token)).Length.ShouldBe(11);
    }

    [Fact]
    public async Task An_error_reply_throws_with_its_code()
    {
        var key = Tools.UniquePrefix();
        await _client.HashSetAsync(key, "f", "v", Token);

        var error = await Should.ThrowAsync<CacheServerException>(() => _client.GetAsync(key, Token));

        error.Code.ShouldBe("WRONGTYPE");
        error.Message.ShouldBe("WRONGTYPE Operation against a key holding the wrong kind of value");
        await _client.SetAsync(key + ":s", "x", cancellationToken: Token);
        var notInteger = await Should.ThrowAsync<CacheServerException>(() => _client.IncrementAsync(key + ":s", cancellationToken: Token));
        notInteger.Message.ShouldBe("ERR value is not an integer or out of range");
    }

    [Fact]
    public async Task Concurrent_callers_share_one_pipelined_connection()
    {
        var key = Tools.UniquePrefix();

        var results = await Task.WhenAll(Enumerable.Range(0, 2000).Select(_ => _client.IncrementAsync(key, cancellationToken: Token)));

        results.Order().ShouldBe(Enumerable.Range(1, 2000).Select(i => (long)i));
        (await _client.GetAsync(key, Token)).ShouldBe("2000");
    }

    [Fact]
    public async Task Large_values_survive_the_round_trip()
    {
        var key = Tools.UniquePrefix();
        var value = new byte[3 * 1024 * 1024];
        new Random(42).NextBytes(value);

        await _client.SetAsync(key, value, cancellationToken: Token);

        (await _client.GetBytesAsync(key, Token))!.AsSpan().SequenceEqual(value).ShouldBeTrue();
        (await _client.ExecuteAsync("STRLEN", [key], Token)).AsInt64().ShouldBe(value.Length);
        Encoding.ASCII.GetString((await _client.ExecuteAsync("GETRANGE", [key, 0, 0], Token)).AsBytes()!).Length.ShouldBe(1);
    }
}

public sealed class CacheClientAgainstCalcCacheTests(CacheServerFixture server) : CacheClientContract(server.Port);

public sealed class CacheClientAgainstRedisTests(RedisServer redis) : CacheClientContract(redis.Port);
