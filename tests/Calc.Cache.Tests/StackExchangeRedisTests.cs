using System.Globalization;
using Calc.Testing;
using StackExchange.Redis;

namespace Calc.Cache.Tests;

/// <summary>
/// StackExchange.Redis, the most used .NET client, against our server and against a real redis-server with the same
/// expectations: transactions with conditions (WATCH), Lua scripts, pub/sub.
/// </summary>
public class StackExchangeRedisTests(CacheServerFixture server, RedisServer redis)
{
    public static TheoryData<string> Servers => ["calc-cache", "redis-server"];

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private int PortOf(string name) => name == "calc-cache" ? server.Port : redis.Port;

    private async Task<ConnectionMultiplexer> ConnectAsync(string name)
    {
        var options = ConfigurationOptions.Parse(string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{PortOf(name)}"));
        options.AbortOnConnectFail = true;
        options.ConnectTimeout = 10_000;
        options.SyncTimeout = 10_000;
        options.AsyncTimeout = 10_000;
        return await ConnectionMultiplexer.ConnectAsync(options);
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task A_transaction_with_a_key_not_exists_condition_commits_once_and_then_is_refused(string name)
    {
        await using var connection = await ConnectAsync(name);
        var db = connection.GetDatabase();
        var key = Tools.UniquePrefix();

        var first = db.CreateTransaction();
        first.AddCondition(Condition.KeyNotExists(key));
        _ = first.StringSetAsync(key, "first");
        _ = first.HashSetAsync(key + ":h", "f", "1");
        var committed = await first.ExecuteAsync();

        var second = db.CreateTransaction();
        second.AddCondition(Condition.KeyNotExists(key));
        _ = second.StringSetAsync(key, "second");
        var refused = await second.ExecuteAsync();

        committed.ShouldBeTrue();
        refused.ShouldBeFalse();
        ((string?)await db.StringGetAsync(key)).ShouldBe("first");
        ((string?)await db.HashGetAsync(key + ":h", "f")).ShouldBe("1");
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task A_transaction_returns_each_commands_result(string name)
    {
        await using var connection = await ConnectAsync(name);
        var db = connection.GetDatabase();
        var key = Tools.UniquePrefix();
        await db.StringSetAsync(key, "5");

        var transaction = db.CreateTransaction();
        transaction.AddCondition(Condition.StringEqual(key, "5"));
        var incremented = transaction.StringIncrementAsync(key, 10);
        var read = transaction.StringGetAsync(key);
        (await transaction.ExecuteAsync()).ShouldBeTrue();

        (await incremented).ShouldBe(15);
        ((string?)await read).ShouldBe("15");
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task A_prepared_lua_script_with_named_parameters_runs_and_converts_types(string name)
    {
        await using var connection = await ConnectAsync(name);
        var db = connection.GetDatabase();
        var key = Tools.UniquePrefix();
        var script = LuaScript.Prepare("redis.call('set', @key, @value) return {redis.call('get', @key), redis.call('incrby', @key, @step), false, 1.9}");

        var result = (RedisResult[])(await db.ScriptEvaluateAsync(script, new { key = (RedisKey)key, value = "40", step = 2 }))!;

        ((string?)result[0]).ShouldBe("40");
        ((long)result[1]).ShouldBe(42);
        result[2].IsNull.ShouldBeTrue();
        ((long)result[3]).ShouldBe(1);
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task A_loaded_script_runs_by_its_sha_and_a_missing_sha_is_noscript(string name)
    {
        await using var connection = await ConnectAsync(name);
        var db = connection.GetDatabase();
        var serverApi = connection.GetServer(connection.GetEndPoints()[0]);
        var key = Tools.UniquePrefix();
        var sha = await serverApi.ScriptLoadAsync("return redis.call('incr', KEYS[1])");

        var first = await db.ScriptEvaluateAsync(sha, [key]);
        var second = await db.ScriptEvaluateAsync(sha, [key]);
        var missing = await Should.ThrowAsync<RedisServerException>(() => db.ScriptEvaluateAsync(new byte[20], [key]));

        ((long)first).ShouldBe(1);
        ((long)second).ShouldBe(2);
        missing.Message.ShouldStartWith("NOSCRIPT");
        (await serverApi.ScriptExistsAsync(sha)).ShouldBeTrue();
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task A_script_error_reaches_the_client_as_a_server_error(string name)
    {
        await using var connection = await ConnectAsync(name);
        var db = connection.GetDatabase();
        var key = Tools.UniquePrefix();
        await db.StringSetAsync(key, "not a number");

        var error = await Should.ThrowAsync<RedisServerException>(() => db.ScriptEvaluateAsync("return redis.call('incr', KEYS[1])", [key]));

        error.Message.ShouldStartWith("ERR value is not an integer or out of range script: ");
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task A_subscriber_gets_messages_published_on_other_connections_by_channel_and_by_pattern(string name)
    {
        await using var subscriberConnection = await ConnectAsync(name);
        await using var publisherConnection = await ConnectAsync(name);
        var prefix = Tools.UniquePrefix();
        var byChannel = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var byPattern = new TaskCompletionSource<(string Channel, string Message)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var subscriber = subscriberConnection.GetSubscriber();
        await subscriber.SubscribeAsync(RedisChannel.Literal(prefix + ":news"), (_, message) => byChannel.TrySetResult(message!));
        await subscriber.SubscribeAsync(RedisChannel.Pattern(prefix + ":n*"), (channel, message) => byPattern.TrySetResult((channel!, message!)));

        var receivers = await publisherConnection.GetSubscriber().PublishAsync(RedisChannel.Literal(prefix + ":news"), "hello");

        receivers.ShouldBe(2);
        (await byChannel.Task.WaitAsync(TimeSpan.FromSeconds(10), Token)).ShouldBe("hello");
        (await byPattern.Task.WaitAsync(TimeSpan.FromSeconds(10), Token)).ShouldBe((prefix + ":news", "hello"));
        var numsub = await publisherConnection.GetServer(publisherConnection.GetEndPoints()[0]).SubscriptionSubscriberCountAsync(RedisChannel.Literal(prefix + ":news"));
        numsub.ShouldBe(1);
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task Watch_multi_exec_increments_from_many_connections_lose_no_update(string name)
    {
        const int Connections = 6;
        const int IncrementsEach = 40;
        var key = Tools.UniquePrefix();
        var connections = new List<ConnectionMultiplexer>();
        try
        {
            for (var i = 0; i < Connections; i++)
            {
                connections.Add(await ConnectAsync(name));
            }

            var deadline = DateTime.UtcNow.AddSeconds(60);
            var conflicts = 0;
            await Task.WhenAll(connections.Select(connection => Task.Run(
                async () =>
                {
                    var db = connection.GetDatabase();
                    for (var done = 0; done < IncrementsEach && DateTime.UtcNow < deadline;)
                    {
                        // Read, then write read + 1 only if the key still holds what was read (WATCH under the hood).
                        var current = (long?)await db.StringGetAsync(key) ?? 0;
                        var transaction = db.CreateTransaction();
                        transaction.AddCondition(current == 0 ? Condition.KeyNotExists(key) : Condition.StringEqual(key, current));
                        _ = transaction.StringSetAsync(key, current + 1);
                        if (await transaction.ExecuteAsync())
                        {
                            done++;
                        }
                        else
                        {
                            Interlocked.Increment(ref conflicts);
                        }
                    }
                },
                Token)));

            ((long?)await connections[0].GetDatabase().StringGetAsync(key)).ShouldBe(Connections * IncrementsEach);
        }
        finally
        {
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }
}
