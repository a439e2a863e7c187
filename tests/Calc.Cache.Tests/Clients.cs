using StackExchange.Redis;

namespace Calc.Cache.Tests;

/// <summary>
/// StackExchange.Redis, the outside .NET client the cache's tests speak through (beside redis-cli and raw bytes over
/// a socket). Configured as the gateway's registry connection is: no pub/sub (Calc.Cache has none), no tie-breaker
/// key, no cluster or sentinel discovery. Admin mode is on for CONFIG, INFO, DEBUG, FLUSHALL and BGREWRITEAOF.
/// </summary>
internal static class Clients
{
    /// <summary>Connects to the loopback <paramref name="port"/>; throws when the server refuses (down, wrong password).</summary>
    public static async Task<ConnectionMultiplexer> ConnectAsync(int port, Action<ConfigurationOptions>? configure = null)
    {
        var options = Options(port);
        configure?.Invoke(options);
        return await ConnectionMultiplexer.ConnectAsync(options).WaitAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>The settings <see cref="ConnectAsync"/> uses, for tests that change one.</summary>
    public static ConfigurationOptions Options(int port)
    {
        var options = new ConfigurationOptions
        {
            ClientName = "calc-cache-tests",
            SetClientLibrary = false,
            AllowAdmin = true,
            AbortOnConnectFail = true,
            ConnectRetry = 1,
            // Generous: values of several megabytes go through a machine shared with other builds.
            ConnectTimeout = 10_000,
            SyncTimeout = 30_000,
            AsyncTimeout = 30_000,
            ConfigurationChannel = "",
            TieBreaker = "",
            CommandMap = CommandMap.Create(
                ["SUBSCRIBE", "UNSUBSCRIBE", "PSUBSCRIBE", "PUNSUBSCRIBE", "SSUBSCRIBE", "SUNSUBSCRIBE", "PUBLISH", "CLUSTER", "SENTINEL"],
                available: false),
        };
        options.EndPoints.Add("127.0.0.1", port);
        return options;
    }

    /// <summary>Every key SCAN MATCH <paramref name="pattern"/> returns, <paramref name="count"/> at a time, cursor by cursor.</summary>
    public static async Task<List<string>> ScanAllAsync(this IDatabase db, string pattern, int count = 100)
    {
        var keys = new List<string>();
        var cursor = "0";
        do
        {
            var reply = (RedisResult[])(await db.ExecuteAsync("SCAN", cursor, "MATCH", pattern, "COUNT", count))!;
            cursor = (string)reply[0]!;
            keys.AddRange(((RedisResult[])reply[1]!).Select(k => (string)k!));
        }
        while (cursor != "0");

        return keys;
    }

    /// <summary>An integer reply.</summary>
    public static long Integer(this RedisResult reply) => (long)reply;

    /// <summary>A bulk or simple string reply; null for a null reply.</summary>
    public static string? Text(this RedisResult reply) => (string?)reply;

    /// <summary>An array reply's elements.</summary>
    public static RedisResult[] Elements(this RedisResult reply) => (RedisResult[])reply!;
}
