using Calc.Cache.Storage;

namespace Calc.Cache.Commands;

/// <summary>The command table: lookup by name (case-insensitive, no allocation) and the data behind COMMAND.</summary>
internal static class CommandTable
{
    private const CommandFlags W = CommandFlags.Write;
    private const CommandFlags R = CommandFlags.ReadOnly;
    private const CommandFlags M = CommandFlags.DenyOom;
    private const CommandFlags F = CommandFlags.Fast;
    private const CommandFlags N = CommandFlags.NoAuth;
    private const CommandFlags A = CommandFlags.Admin;

    public static readonly CommandInfo[] All =
    [
        new("get", CommandKind.Get, 2, R | F, 1, 1, 1, "string", "Returns the string value of a key."),
        new("set", CommandKind.Set, -3, W | M, 1, 1, 1, "string", "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist."),
        new("setnx", CommandKind.SetNx, 3, W | M | F, 1, 1, 1, "string", "Set the string value of a key only when the key doesn't exist."),
        new("setex", CommandKind.SetEx, 4, W | M, 1, 1, 1, "string", "Sets the string value and expiration time of a key. Creates the key if it doesn't exist."),
        new("psetex", CommandKind.PSetEx, 4, W | M, 1, 1, 1, "string", "Sets both string value and expiration time in milliseconds of a key."),
        new("mget", CommandKind.MGet, -2, R | F, 1, -1, 1, "string", "Atomically returns the string values of one or more keys."),
        new("mset", CommandKind.MSet, -3, W | M, 1, -1, 2, "string", "Atomically creates or modifies the string values of one or more keys."),
        new("msetnx", CommandKind.MSetNx, -3, W | M, 1, -1, 2, "string", "Atomically modifies the string values of one or more keys only when all keys don't exist."),
        new("incr", CommandKind.Incr, 2, W | M | F, 1, 1, 1, "string", "Increments the integer value of a key by one."),
        new("decr", CommandKind.Decr, 2, W | M | F, 1, 1, 1, "string", "Decrements the integer value of a key by one."),
        new("incrby", CommandKind.IncrBy, 3, W | M | F, 1, 1, 1, "string", "Increments the integer value of a key by a number."),
        new("decrby", CommandKind.DecrBy, 3, W | M | F, 1, 1, 1, "string", "Decrements a number from the integer value of a key."),
        new("incrbyfloat", CommandKind.IncrByFloat, 3, W | M | F, 1, 1, 1, "string", "Increment the floating point value of a key by a number."),
        new("append", CommandKind.Append, 3, W | M | F, 1, 1, 1, "string", "Appends a string to the value of a key. Creates the key if it doesn't exist."),
        new("strlen", CommandKind.StrLen, 2, R | F, 1, 1, 1, "string", "Returns the length of a string value."),
        new("getdel", CommandKind.GetDel, 2, W | F, 1, 1, 1, "string", "Returns the string value of a key after deleting the key."),
        new("getex", CommandKind.GetEx, -2, W | F, 1, 1, 1, "string", "Returns the string value of a key after setting its expiration time."),
        new("getset", CommandKind.GetSet, 3, W | M | F, 1, 1, 1, "string", "Returns the previous string value of a key after setting it to a new value."),
        new("getrange", CommandKind.GetRange, 4, R, 1, 1, 1, "string", "Returns a substring of the string stored at a key."),
        new("setrange", CommandKind.SetRange, 4, W | M, 1, 1, 1, "string", "Overwrites a part of a string value with another by an offset."),
        new("del", CommandKind.Del, -2, W, 1, -1, 1, "generic", "Deletes one or more keys."),
        new("unlink", CommandKind.Unlink, -2, W | F, 1, -1, 1, "generic", "Deletes one or more keys."),
        new("exists", CommandKind.Exists, -2, R | F, 1, -1, 1, "generic", "Determines whether one or more keys exist."),
        new("keys", CommandKind.Keys, 2, R, 0, 0, 0, "generic", "Returns all key names that match a pattern."),
        new("scan", CommandKind.Scan, -2, R, 0, 0, 0, "generic", "Iterates over the key names in the database."),
        new("randomkey", CommandKind.RandomKey, 1, R, 0, 0, 0, "generic", "Returns a random key name from the database."),
        new("rename", CommandKind.Rename, 3, W, 1, 2, 1, "generic", "Renames a key and overwrites the destination."),
        new("renamenx", CommandKind.RenameNx, 3, W | F, 1, 2, 1, "generic", "Renames a key only when the target key name doesn't exist."),
        new("type", CommandKind.Type, 2, R | F, 1, 1, 1, "generic", "Determines the type of value stored at a key."),
        new("dbsize", CommandKind.DbSize, 1, R | F, 0, 0, 0, "server", "Returns the number of keys in the database."),
        new("flushdb", CommandKind.FlushDb, -1, W, 0, 0, 0, "server", "Remove all keys from the current database."),
        new("flushall", CommandKind.FlushAll, -1, W, 0, 0, 0, "server", "Removes all keys from all databases."),
        new("select", CommandKind.Select, 2, F, 0, 0, 0, "connection", "Changes the selected database (only 0 exists)."),
        new("expire", CommandKind.Expire, -3, W | F, 1, 1, 1, "generic", "Sets the expiration time of a key in seconds."),
        new("pexpire", CommandKind.PExpire, -3, W | F, 1, 1, 1, "generic", "Sets the expiration time of a key in milliseconds."),
        new("expireat", CommandKind.ExpireAt, -3, W | F, 1, 1, 1, "generic", "Sets the expiration time of a key to a Unix timestamp."),
        new("pexpireat", CommandKind.PExpireAt, -3, W | F, 1, 1, 1, "generic", "Sets the expiration time of a key to a Unix milliseconds timestamp."),
        new("ttl", CommandKind.Ttl, 2, R | F, 1, 1, 1, "generic", "Returns the expiration time in seconds of a key."),
        new("pttl", CommandKind.PTtl, 2, R | F, 1, 1, 1, "generic", "Returns the expiration time in milliseconds of a key."),
        new("expiretime", CommandKind.ExpireTime, 2, R | F, 1, 1, 1, "generic", "Returns the expiration time of a key as a Unix timestamp."),
        new("pexpiretime", CommandKind.PExpireTime, 2, R | F, 1, 1, 1, "generic", "Returns the expiration time of a key as a Unix milliseconds timestamp."),
        new("persist", CommandKind.Persist, 2, W | F, 1, 1, 1, "generic", "Removes the expiration time of a key."),
        new("hset", CommandKind.HSet, -4, W | M | F, 1, 1, 1, "hash", "Creates or modifies the value of a field in a hash."),
        new("hsetnx", CommandKind.HSetNx, 4, W | M | F, 1, 1, 1, "hash", "Sets the value of a field in a hash only when the field doesn't exist."),
        new("hmset", CommandKind.HMSet, -4, W | M | F, 1, 1, 1, "hash", "Sets the values of multiple fields."),
        new("hget", CommandKind.HGet, 3, R | F, 1, 1, 1, "hash", "Returns the value of a field in a hash."),
        new("hmget", CommandKind.HMGet, -3, R | F, 1, 1, 1, "hash", "Returns the values of all fields in a hash."),
        new("hgetall", CommandKind.HGetAll, 2, R, 1, 1, 1, "hash", "Returns all fields and values in a hash."),
        new("hdel", CommandKind.HDel, -3, W | F, 1, 1, 1, "hash", "Deletes one or more fields and their values from a hash."),
        new("hexists", CommandKind.HExists, 3, R | F, 1, 1, 1, "hash", "Determines whether a field exists in a hash."),
        new("hlen", CommandKind.HLen, 2, R | F, 1, 1, 1, "hash", "Returns the number of fields in a hash."),
        new("hincrby", CommandKind.HIncrBy, 4, W | M | F, 1, 1, 1, "hash", "Increments the integer value of a field in a hash by a number."),
        new("hincrbyfloat", CommandKind.HIncrByFloat, 4, W | M | F, 1, 1, 1, "hash", "Increments the floating point value of a field by a number."),
        new("hkeys", CommandKind.HKeys, 2, R, 1, 1, 1, "hash", "Returns all fields in a hash."),
        new("hvals", CommandKind.HVals, 2, R, 1, 1, 1, "hash", "Returns all values in a hash."),
        new("hstrlen", CommandKind.HStrLen, 3, R | F, 1, 1, 1, "hash", "Returns the length of the value of a field."),
        new("ping", CommandKind.Ping, -1, F, 0, 0, 0, "connection", "Returns the server's liveliness response."),
        new("echo", CommandKind.Echo, 2, F, 0, 0, 0, "connection", "Returns the given string."),
        new("quit", CommandKind.Quit, -1, N | F, 0, 0, 0, "connection", "Closes the connection."),
        new("reset", CommandKind.Reset, 1, N | F, 0, 0, 0, "connection", "Resets the connection."),
        new("auth", CommandKind.Auth, -2, N | F, 0, 0, 0, "connection", "Authenticates the connection."),
        new("hello", CommandKind.Hello, -1, N | F, 0, 0, 0, "connection", "Handshakes with the Redis server."),
        new("client", CommandKind.Client, -2, F, 0, 0, 0, "connection", "A container for client connection commands."),
        new("info", CommandKind.Info, -1, CommandFlags.None, 0, 0, 0, "server", "Returns information and statistics about the server."),
        new("config", CommandKind.Config, -2, A, 0, 0, 0, "server", "A container for server configuration commands."),
        new("command", CommandKind.Command, -1, CommandFlags.None, 0, 0, 0, "server", "Returns detailed information about all commands."),
        new("debug", CommandKind.Debug, -2, A, 0, 0, 0, "server", "A container for debugging commands (SLEEP, POPULATE)."),
        new("object", CommandKind.Object, -2, R, 2, 2, 1, "generic", "A container for object introspection commands."),
        new("time", CommandKind.Time, 1, F, 0, 0, 0, "server", "Returns the server time."),
        new("bgrewriteaof", CommandKind.BgRewriteAof, 1, A, 0, 0, 0, "server", "Asynchronously rewrites the append-only file to disk."),

        // Transactions (RespSession.Transactions.cs)
        new("multi", CommandKind.Multi, 1, F, 0, 0, 0, "transactions", "Starts a transaction."),
        new("exec", CommandKind.Exec, 1, CommandFlags.None, 0, 0, 0, "transactions", "Executes all commands in a transaction."),
        new("discard", CommandKind.Discard, 1, F, 0, 0, 0, "transactions", "Discards a transaction."),
        new("watch", CommandKind.Watch, -2, F, 1, -1, 1, "transactions", "Monitors changes to keys to determine the execution of a transaction."),
        new("unwatch", CommandKind.Unwatch, 1, F, 0, 0, 0, "transactions", "Forgets about watched keys of a transaction."),

        // Scripting (RespSession.Scripting.cs): not Write themselves, the commands they run are logged one by one
        new("eval", CommandKind.Eval, -3, CommandFlags.None, 0, 0, 0, "scripting", "Executes a server-side Lua script."),
        new("evalsha", CommandKind.EvalSha, -3, CommandFlags.None, 0, 0, 0, "scripting", "Executes a server-side Lua script by SHA1 digest."),
        new("eval_ro", CommandKind.EvalRo, -3, R, 0, 0, 0, "scripting", "Executes a read-only server-side Lua script."),
        new("evalsha_ro", CommandKind.EvalShaRo, -3, R, 0, 0, 0, "scripting", "Executes a read-only server-side Lua script by SHA1 digest."),
        // Pub/sub (RespSession.PubSub.cs)
        new("subscribe", CommandKind.Subscribe, -2, CommandFlags.None, 0, 0, 0, "pubsub", "Listens for messages published to channels."),
        new("unsubscribe", CommandKind.Unsubscribe, -1, CommandFlags.None, 0, 0, 0, "pubsub", "Stops listening to messages posted to channels."),
        new("psubscribe", CommandKind.PSubscribe, -2, CommandFlags.None, 0, 0, 0, "pubsub", "Listens for messages published to channels that match one or more patterns."),
        new("punsubscribe", CommandKind.PUnsubscribe, -1, CommandFlags.None, 0, 0, 0, "pubsub", "Stops listening to messages published to channels that match one or more patterns."),
        new("publish", CommandKind.Publish, 3, F, 0, 0, 0, "pubsub", "Posts a message to a channel."),
        new("pubsub", CommandKind.PubSub, -2, CommandFlags.None, 0, 0, 0, "pubsub", "A container for Pub/Sub commands."),
        new("script", CommandKind.Script, -2, CommandFlags.None, 0, 0, 0, "scripting", "A container for Lua scripts management commands."),
    ];

    private static readonly Dictionary<byte[], CommandInfo>.AlternateLookup<ReadOnlySpan<byte>> ByName =
        All.ToDictionary(c => System.Text.Encoding.ASCII.GetBytes(c.Name), AsciiIgnoreCaseComparer.Instance)
            .GetAlternateLookup<ReadOnlySpan<byte>>();

    /// <summary>Well-known Redis commands this server deliberately does not implement (they get a clear error).</summary>
    private static readonly HashSet<string> KnownUnsupported = new(StringComparer.OrdinalIgnoreCase)
    {
        "lpush", "rpush", "lpop", "rpop", "lrange", "llen", "lindex", "lset", "lrem", "ltrim", "blpop", "brpop", "lmove", "blmove",
        "sadd", "srem", "smembers", "sismember", "scard", "spop", "srandmember", "sinter", "sunion", "sdiff", "smove",
        "zadd", "zrem", "zrange", "zscore", "zcard", "zincrby", "zrank", "zrangebyscore", "zpopmin", "zpopmax",
        "ssubscribe",
        "fcall", "function",
        "xadd", "xread", "xrange", "xlen", "xgroup", "xreadgroup", "xack",
        "pfadd", "pfcount", "pfmerge", "setbit", "getbit", "bitcount", "bitop", "bitpos", "bitfield", "geoadd", "geosearch",
        "save", "bgsave", "bgrewriteaof", "lastsave", "shutdown", "replicaof", "slaveof", "sync", "psync", "monitor",
        "migrate", "move", "copy", "dump", "restore", "swapdb", "wait", "slowlog", "latency", "memory", "acl", "cluster",
        "hscan", "hrandfield", "touch", "sort", "lcs", "module", "lolwut", "failover",
    };

    private static readonly CommandInfo GetInfo = All.First(c => c.Kind == CommandKind.Get);
    private static readonly CommandInfo SetInfo = All.First(c => c.Kind == CommandKind.Set);

    public static CommandInfo? Find(ReadOnlySpan<byte> name)
    {
        // GET and SET are most of what a cache serves: compare them as one ASCII-lowercased 3-byte word before hashing.
        // OR-ing 0x20 into each byte maps only 'G'/'g' to 'g' (and so on), so this is an exact case-insensitive match.
        if (name.Length == 3)
        {
            var word = (name[0] | (name[1] << 8) | (name[2] << 16)) | 0x202020;
            if (word == ('g' | ('e' << 8) | ('t' << 16)))
            {
                return GetInfo;
            }

            if (word == ('s' | ('e' << 8) | ('t' << 16)))
            {
                return SetInfo;
            }
        }

        return ByName.TryGetValue(name, out var info) ? info : null;
    }

    public static CommandInfo? Find(string name) => Find(System.Text.Encoding.UTF8.GetBytes(name));

    public static bool IsKnownUnsupported(string name) => KnownUnsupported.Contains(name);
}
