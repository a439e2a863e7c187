using Calc.Testing;

namespace Calc.Cache.Tests;

/// <summary>
/// MULTI/EXEC/WATCH, EVAL/SCRIPT and PUBSUB through redis-cli against our server and a real redis-server: the same
/// script must print the same replies and error texts (the EXECABORT, NOSCRIPT, script error suffixes ...).
/// The failing redis.call cases are not in tail position (<c>local v = redis.call(...) return v</c>): Lua 5.4 drops
/// the caller's frame for a tail call, so our error suffix says line 0 there (see cache/README.md).
/// </summary>
public class RedisCliTransactionScriptingTests(CacheServerFixture server, RedisServer redis)
{
    public static TheoryData<string, string> Scripts => new()
    {
        { "transaction", "MULTI\nSET {k} 1\nINCR {k}\nGET {k}\nEXEC\nGET {k}" },
        { "queue-time-errors", "MULTI\nSET {k} 1\nNOSUCHCOMMAND x\nGET\nEXEC\nEXISTS {k}" },
        { "exec-time-errors", "SET {k}:s abc\nMULTI\nINCR {k}:s\nSET {k}:t 2\nHSET {k}:s f v\nEXEC\nGET {k}:t" },
        { "nesting-and-misuse", "EXEC\nDISCARD\nMULTI\nMULTI\nWATCH {k}\nSET {k} x\nEXEC\nGET {k}\nMULTI\nSET {k} y\nDISCARD\nGET {k}\nUNWATCH\nWATCH\nMULTI\nEXEC" },
        { "watch-unchanged-commits", "SET {k} 1\nWATCH {k}\nGET {k}\nMULTI\nINCR {k}\nEXEC\nWATCH {k}:missing\nMULTI\nSET {k}:other 1\nEXEC" },
        { "watch-then-own-write-aborts", "SET {k} 1\nWATCH {k}\nSET {k} 2\nMULTI\nINCR {k}\nEXEC\nGET {k}\nWATCH {k}\nDEL {k}\nMULTI\nINCR {k}\nEXEC\nWATCH {k}:e\nSET {k}:e v PX 1\nMULTI\nGET {k}:e\nEXEC" },
        { "watch-rename-and-expire", "SET {k} 1\nWATCH {k}\nRENAME {k} {k}:moved\nMULTI\nGET {k}:moved\nEXEC\nWATCH {k}:x\nEXPIRE {k}:moved 100\nMULTI\nPING\nEXEC" },
        { "eval-conversions", "EVAL \"return {1,2,3.99,'a',true,false,nil,4}\" 0\nEVAL \"return redis.status_reply('FINE')\" 0\nEVAL \"return redis.error_reply('My Error')\" 0\nEVAL \"return {err='x y'}\" 0\nEVAL \"return {1,{2,{3}},{err='e'}}\" 0\nEVAL \"return -3.7\" 0\nEVAL \"return 2^63\" 0\nEVAL \"return ARGV[1]..KEYS[1]\" 1 {k} a\nEVAL \"return type(redis.call('get', KEYS[1]))\" 1 {k}:none\nEVAL \"return redis.call('set', KEYS[1], 'v')\" 1 {k}\nEVAL \"return redis.call('set', KEYS[1], 'v')['ok']\" 1 {k}\nEVAL \"return redis.call('incr', KEYS[1])\" 1 {k}:n\nEVAL \"return redis.pcall('incr', KEYS[1])\" 1 {k}\nEVAL \"local t = redis.pcall('incr', KEYS[1]) return t['err']\" 1 {k}\nEVAL \"return redis.sha1hex('')\" 0\nEVAL \"return redis.call('ping')\" 0\nEVAL \"return redis.call('hset', KEYS[1], 'a', 1, 'b', 2.5)\" 1 {k}:h\nEVAL \"return redis.call('hgetall', KEYS[1])\" 1 {k}:h\nEVAL \"return tonumber('0x10')\" 0\nEVAL \"return #KEYS + #ARGV\" 2 a b c\nEVAL \"return unpack({1, 2})\" 0" },
        { "eval-errors", "SET {k} bar\nEVAL \"local v = redis.call('incr', KEYS[1]) return v\" 1 {k}\nEVAL \"return 1 + nil\" 0\nEVAL \"return x\" 0\nEVAL \"x = 1\" 0\nEVAL \"local v = redis.call('nosuch') return v\" 0\nEVAL \"local v = redis.call('get') return v\" 0\nEVAL \"local v = redis.call('multi') return v\" 0\nEVAL \"local v = redis.call() return v\" 0\nEVAL \"local v = redis.call({}) return v\" 0\nEVAL \"error('boom')\" 0\nEVAL \"error({err='boom2'})\" 0\nEVAL \"return redis.pcall('nosuch')\" 0\nEVAL \"return os\" 0\nEVAL \"return io\" 0\nEVAL \"return dofile\" 0\nEVAL \"return require\" 0\nEVAL \"return debug\" 0\nEVAL \"return package\" 0\nEVAL \"return loadfile\" 0\nEVALSHA ffffffffffffffffffffffffffffffffffffffff 0\nEVAL \"return 1\" -1\nEVAL \"return 1\" 2 a\nEVAL \"return 1\" x\nEVAL_RO \"local v = redis.call('set', KEYS[1], 'b') return v\" 1 {k}\nEVAL_RO \"local v = redis.call('get', KEYS[1]) return v\" 1 {k}\nSCRIPT KILL\nSCRIPT NOSUCH" },
        { "script-cache", "SCRIPT LOAD \"return 'cached'\"\nEVALSHA 952f49ffc8f7b098d8ab5da45d3164ca36ed18b1 0\nEVALSHA 952F49FFC8F7B098D8AB5DA45D3164CA36ED18B1 0\nEVALSHA a8c6e1f3c1ec3bbc8a4a2fba0e8b8c9a1bd7e6c5 0\nSCRIPT EXISTS 952f49ffc8f7b098d8ab5da45d3164ca36ed18b1 ffffffffffffffffffffffffffffffffffffffff\nEVAL \"return 'by eval'\" 0" },
        { "eval-inside-multi", "MULTI\nEVAL \"return redis.call('incr', KEYS[1])\" 1 {k}\nEVAL \"return redis.call('incr', KEYS[1])\" 1 {k}\nEXEC" },
        { "pubsub-introspection", "PUBLISH {k}:nobody hello\nPUBSUB NUMSUB {k}:a {k}:b\nPUBSUB CHANNELS {k}:*\nPUBSUB NOSUCH" },
    };

    [Theory]
    [MemberData(nameof(Scripts))]
    public async Task Redis_cli_sees_the_same_transaction_script_and_pubsub_replies_as_from_redis(string name, string script)
    {
        var prefix = Tools.UniquePrefix();
        var text = script.Replace("{k}", prefix, StringComparison.Ordinal);

        var ours = await RedisCliTests.RunRedisCliAsync(server.Port, text);
        var theirs = await RedisCliTests.RunRedisCliAsync(redis.Port, text);

        ours.ShouldBe(theirs, $"script '{name}'");
    }
}
