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
        new("select", CommandKind.Select, 2, F, 0, 0, 0, "connection", "Changes the selected database."),
        new("swapdb", CommandKind.SwapDb, 3, W | F, 0, 0, 0, "server", "Swaps two Redis databases."),
        new("move", CommandKind.Move, 3, W | F, 1, 1, 1, "generic", "Moves a key to another database."),
        new("copy", CommandKind.Copy, -3, W | M, 1, 2, 1, "generic", "Copies the value of a key to a new key."),
        new("dump", CommandKind.Dump, 2, R, 1, 1, 1, "generic", "Returns a serialized representation of the value stored at a key (Calc.Cache's own format, not RDB)."),
        new("restore", CommandKind.Restore, -4, W | M, 1, 1, 1, "generic", "Creates a key from the serialized representation of a value (Calc.Cache's DUMP format)."),
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
        // Lists, sets, sorted sets, bitmaps (one block, so merges with other families stay simple). Commands with
        // movable keys (ZUNIONSTORE ...) declare 1..-1: the AOF rewrite then records the state of every argument
        // that names a key (the others record an absent key's DEL, which changes nothing).
        new("lpush", CommandKind.LPush, -3, W | M | F, 1, 1, 1, "list", "Prepends one or more elements to a list. Creates the key if it doesn't exist."),
        new("rpush", CommandKind.RPush, -3, W | M | F, 1, 1, 1, "list", "Appends one or more elements to a list. Creates the key if it doesn't exist."),
        new("lpushx", CommandKind.LPushX, -3, W | M | F, 1, 1, 1, "list", "Prepends one or more elements to a list only when the list exists."),
        new("rpushx", CommandKind.RPushX, -3, W | M | F, 1, 1, 1, "list", "Appends an element to a list only when the list exists."),
        new("lpop", CommandKind.LPop, -2, W | F, 1, 1, 1, "list", "Returns the first elements in a list after removing it. Deletes the list if the last element was popped."),
        new("rpop", CommandKind.RPop, -2, W | F, 1, 1, 1, "list", "Returns and removes the last elements of a list. Deletes the list if the last element was popped."),
        new("lrange", CommandKind.LRange, 4, R, 1, 1, 1, "list", "Returns a range of elements from a list."),
        new("llen", CommandKind.LLen, 2, R | F, 1, 1, 1, "list", "Returns the length of a list."),
        new("lindex", CommandKind.LIndex, 3, R, 1, 1, 1, "list", "Returns an element from a list by its index."),
        new("lset", CommandKind.LSet, 4, W | M, 1, 1, 1, "list", "Sets the value of an element in a list by its index."),
        new("lrem", CommandKind.LRem, 4, W, 1, 1, 1, "list", "Removes elements from a list. Deletes the list if the last element was removed."),
        new("ltrim", CommandKind.LTrim, 4, W, 1, 1, 1, "list", "Removes elements from both ends a list. Deletes the list if all elements were trimmed."),
        new("linsert", CommandKind.LInsert, 5, W | M, 1, 1, 1, "list", "Inserts an element before or after another element in a list."),
        new("lpos", CommandKind.LPos, -3, R, 1, 1, 1, "list", "Returns the index of matching elements in a list."),
        new("lmpop", CommandKind.LMPop, -4, W, 2, -1, 1, "list", "Returns multiple elements from a list after removing them. Deletes the list if the last element was popped."),
        new("lmove", CommandKind.LMove, 5, W | M, 1, 2, 1, "list", "Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved."),
        new("rpoplpush", CommandKind.RPopLPush, 3, W | M, 1, 2, 1, "list", "Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped."),
        new("blpop", CommandKind.BLPop, -3, W, 1, -2, 1, "list", "Removes and returns the first element in a list. Blocks until an element is available otherwise."),
        new("brpop", CommandKind.BRPop, -3, W, 1, -2, 1, "list", "Removes and returns the last element in a list. Blocks until an element is available otherwise."),
        new("blmpop", CommandKind.BLMPop, -5, W, 3, -1, 1, "list", "Pops the first element from one of multiple lists. Blocks until an element is available otherwise. Deletes the list if the last element was popped."),
        new("blmove", CommandKind.BLMove, 6, W | M, 1, 2, 1, "list", "Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise."),
        new("brpoplpush", CommandKind.BRPopLPush, 4, W | M, 1, 2, 1, "list", "Pops an element from a list, pushes it to another list and returns it. Block until an element is available otherwise."),
        new("sadd", CommandKind.SAdd, -3, W | M | F, 1, 1, 1, "set", "Adds one or more members to a set. Creates the key if it doesn't exist."),
        new("srem", CommandKind.SRem, -3, W | F, 1, 1, 1, "set", "Removes one or more members from a set. Deletes the set if the last member was removed."),
        new("smembers", CommandKind.SMembers, 2, R, 1, 1, 1, "set", "Returns all members of a set."),
        new("sismember", CommandKind.SIsMember, 3, R | F, 1, 1, 1, "set", "Determines whether a member belongs to a set."),
        new("smismember", CommandKind.SMIsMember, -3, R | F, 1, 1, 1, "set", "Determines whether multiple members belong to a set."),
        new("scard", CommandKind.SCard, 2, R | F, 1, 1, 1, "set", "Returns the number of members in a set."),
        new("spop", CommandKind.SPop, -2, W | F, 1, 1, 1, "set", "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped."),
        new("srandmember", CommandKind.SRandMember, -2, R, 1, 1, 1, "set", "Get one or multiple random members from a set."),
        new("sinter", CommandKind.SInter, -2, R, 1, -1, 1, "set", "Returns the intersect of multiple sets."),
        new("sinterstore", CommandKind.SInterStore, -3, W | M, 1, -1, 1, "set", "Stores the intersect of multiple sets in a key."),
        new("sunion", CommandKind.SUnion, -2, R, 1, -1, 1, "set", "Returns the union of multiple sets."),
        new("sunionstore", CommandKind.SUnionStore, -3, W | M, 1, -1, 1, "set", "Stores the union of multiple sets in a key."),
        new("sdiff", CommandKind.SDiff, -2, R, 1, -1, 1, "set", "Returns the difference of multiple sets."),
        new("sdiffstore", CommandKind.SDiffStore, -3, W | M, 1, -1, 1, "set", "Stores the difference of multiple sets in a key."),
        new("sintercard", CommandKind.SInterCard, -3, R, 1, -1, 1, "set", "Returns the number of members of the intersect of multiple sets."),
        new("smove", CommandKind.SMove, 4, W | F, 1, 2, 1, "set", "Moves a member from one set to another."),
        new("sscan", CommandKind.SScan, -3, R, 1, 1, 1, "set", "Iterates over members of a set."),
        new("zadd", CommandKind.ZAdd, -4, W | M | F, 1, 1, 1, "sorted-set", "Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn't exist."),
        new("zrem", CommandKind.ZRem, -3, W | F, 1, 1, 1, "sorted-set", "Removes one or more members from a sorted set. Deletes the sorted set if all members were removed."),
        new("zscore", CommandKind.ZScore, 3, R | F, 1, 1, 1, "sorted-set", "Returns the score of a member in a sorted set."),
        new("zmscore", CommandKind.ZMScore, -3, R | F, 1, 1, 1, "sorted-set", "Returns the score of one or more members in a sorted set."),
        new("zincrby", CommandKind.ZIncrBy, 4, W | M | F, 1, 1, 1, "sorted-set", "Increments the score of a member in a sorted set."),
        new("zcard", CommandKind.ZCard, 2, R | F, 1, 1, 1, "sorted-set", "Returns the number of members in a sorted set."),
        new("zcount", CommandKind.ZCount, 4, R | F, 1, 1, 1, "sorted-set", "Returns the count of members in a sorted set that have scores within a range."),
        new("zlexcount", CommandKind.ZLexCount, 4, R | F, 1, 1, 1, "sorted-set", "Returns the number of members in a sorted set within a lexicographical range."),
        new("zrange", CommandKind.ZRange, -4, R, 1, 1, 1, "sorted-set", "Returns members in a sorted set within a range of indexes."),
        new("zrangebyscore", CommandKind.ZRangeByScore, -4, R, 1, 1, 1, "sorted-set", "Returns members in a sorted set within a range of scores."),
        new("zrevrangebyscore", CommandKind.ZRevRangeByScore, -4, R, 1, 1, 1, "sorted-set", "Returns members in a sorted set within a range of scores in reverse order."),
        new("zrevrange", CommandKind.ZRevRange, -4, R, 1, 1, 1, "sorted-set", "Returns members in a sorted set within a range of indexes in reverse order."),
        new("zrangebylex", CommandKind.ZRangeByLex, -4, R, 1, 1, 1, "sorted-set", "Returns members in a sorted set within a lexicographical range."),
        new("zrevrangebylex", CommandKind.ZRevRangeByLex, -4, R, 1, 1, 1, "sorted-set", "Returns members in a sorted set within a lexicographical range in reverse order."),
        new("zrank", CommandKind.ZRank, 3, R | F, 1, 1, 1, "sorted-set", "Returns the index of a member in a sorted set ordered by ascending scores."),
        new("zrevrank", CommandKind.ZRevRank, 3, R | F, 1, 1, 1, "sorted-set", "Returns the index of a member in a sorted set ordered by descending scores."),
        new("zpopmin", CommandKind.ZPopMin, -2, W | F, 1, 1, 1, "sorted-set", "Returns the lowest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped."),
        new("zmpop", CommandKind.ZMPop, -4, W, 2, -1, 1, "sorted-set", "Returns the highest- or lowest-scoring members from one or more sorted sets after removing them. Deletes the sorted set if the last member was popped."),
        new("zpopmax", CommandKind.ZPopMax, -2, W | F, 1, 1, 1, "sorted-set", "Returns the highest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped."),
        new("zrangestore", CommandKind.ZRangeStore, -5, W | M, 1, 2, 1, "sorted-set", "Stores a range of members from sorted set in a key."),
        new("zunion", CommandKind.ZUnion, -3, R, 1, -1, 1, "sorted-set", "Returns the union of multiple sorted sets."),
        new("zinter", CommandKind.ZInter, -3, R, 1, -1, 1, "sorted-set", "Returns the intersect of multiple sorted sets."),
        new("zdiff", CommandKind.ZDiff, -3, R, 1, -1, 1, "sorted-set", "Returns the difference between multiple sorted sets."),
        new("zunionstore", CommandKind.ZUnionStore, -4, W | M, 1, -1, 1, "sorted-set", "Stores the union of multiple sorted sets in a key."),
        new("zinterstore", CommandKind.ZInterStore, -4, W | M, 1, -1, 1, "sorted-set", "Stores the intersect of multiple sorted sets in a key."),
        new("zdiffstore", CommandKind.ZDiffStore, -4, W | M, 1, -1, 1, "sorted-set", "Stores the difference of multiple sorted sets in a key."),
        new("zintercard", CommandKind.ZInterCard, -3, R, 1, -1, 1, "sorted-set", "Returns the number of members of the intersect of multiple sorted sets."),
        new("zscan", CommandKind.ZScan, -3, R, 1, 1, 1, "sorted-set", "Iterates over members and scores of a sorted set."),
        new("zremrangebyscore", CommandKind.ZRemRangeByScore, 4, W, 1, 1, 1, "sorted-set", "Removes members in a sorted set within a range of scores. Deletes the sorted set if all members were removed."),
        new("zremrangebyrank", CommandKind.ZRemRangeByRank, 4, W, 1, 1, 1, "sorted-set", "Removes members in a sorted set within a range of indexes. Deletes the sorted set if all members were removed."),
        new("zremrangebylex", CommandKind.ZRemRangeByLex, 4, W, 1, 1, 1, "sorted-set", "Removes members in a sorted set within a lexicographical range. Deletes the sorted set if all members were removed."),
        new("zrandmember", CommandKind.ZRandMember, -2, R, 1, 1, 1, "sorted-set", "Returns one or more random members from a sorted set."),
        new("setbit", CommandKind.SetBit, 4, W | M, 1, 1, 1, "bitmap", "Sets or clears the bit at offset of the string value. Creates the key if it doesn't exist."),
        new("getbit", CommandKind.GetBit, 3, R | F, 1, 1, 1, "bitmap", "Returns a bit value by offset."),
        new("bitcount", CommandKind.BitCount, -2, R, 1, 1, 1, "bitmap", "Counts the number of set bits (population counting) in a string."),
        new("bitpos", CommandKind.BitPos, -3, R, 1, 1, 1, "bitmap", "Finds the first set (1) or clear (0) bit in a string."),
        new("bitop", CommandKind.BitOp, -4, W | M, 2, -1, 1, "bitmap", "Performs bitwise operations on multiple strings, and stores the result."),
        new("lcs", CommandKind.Lcs, -3, R, 1, 2, 1, "string", "Finds the longest common substring."),
        new("touch", CommandKind.Touch, -2, R | F, 1, -1, 1, "generic", "Returns the number of existing keys out of those specified after updating the time they were last accessed."),
        new("hscan", CommandKind.HScan, -3, R, 1, 1, 1, "hash", "Iterates over fields and values of a hash."),
        new("hrandfield", CommandKind.HRandField, -2, R, 1, 1, 1, "hash", "Returns one or more random fields from a hash."),
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
        "ssubscribe",
        "fcall", "function",
        "xadd", "xread", "xrange", "xlen", "xgroup", "xreadgroup", "xack",
        "pfadd", "pfcount", "pfmerge", "bitfield", "geoadd", "geosearch", "bzmpop", "bzpopmin", "bzpopmax",
        "save", "bgsave", "bgrewriteaof", "lastsave", "shutdown", "replicaof", "slaveof", "sync", "psync", "monitor",
        "migrate", "wait", "slowlog", "latency", "memory", "acl", "cluster",
        "sort", "module", "lolwut", "failover",
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
