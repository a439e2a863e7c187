using System.Text;
using Calc.Cache.Server;
using Calc.LocalServers;
using StackExchange.Redis;

namespace Calc.Cache.Tests;

/// <summary>
/// The 16 databases (SELECT, SWAPDB, MOVE, COPY, FLUSHDB/FLUSHALL, DBSIZE, INFO keyspace) and DUMP/RESTORE, side by
/// side with a real redis-server. SWAPDB and FLUSHALL change the whole server, so this class has a pair of servers of
/// its own (ours with two event loops, and a redis-server), and its tests run one after another.
/// </summary>
public class DatabasesAgainstRedisTests(DatabasesAgainstRedisTests.OwnServers servers) : IClassFixture<DatabasesAgainstRedisTests.OwnServers>
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public static TheoryData<string, string> Scripts => new()
    {
        { "select", "SELECT 3\nSET k v\nDBSIZE\nSELECT 0\nDBSIZE\nGET k\nSELECT 15\nSELECT 16\nSELECT -1\nSELECT x\nSELECT 3\nKEYS *\nSCAN 0\nRANDOMKEY\nSELECT 4\nRANDOMKEY\nKEYS *" },
        { "move", "SET k v0\nMOVE k 3\nMOVE k 3\nMOVE k 0\nMOVE k 16\nMOVE k x\nSELECT 3\nGET k\nSET k2 v EX 1000\nSELECT 5\nSET k2 other\nSELECT 3\nMOVE k2 5\nMOVE k2 6\nSELECT 6\nTTL k2\nRPUSH l a\nMOVE l 7\nSELECT 7\nLRANGE l 0 -1\nMOVE nokey 1" },
        { "swapdb", "SELECT 5\nSET a five\nSELECT 6\nSET b six\nSWAPDB 5 6\nGET a\nGET b\nSELECT 5\nGET a\nGET b\nSWAPDB 5 5\nGET b\nSWAPDB 0 16\nSWAPDB x 1\nSWAPDB 1 x\nSWAPDB -1 1\nSWAPDB 5 9\nDBSIZE\nSELECT 9\nGET b" },
        { "copy", "RPUSH l a b c\nCOPY l l2\nCOPY l l2\nCOPY l l2 REPLACE\nCOPY l l\nCOPY l l DB 0\nCOPY l l DB 7\nCOPY l l DB\nCOPY l l FOO\nCOPY l l DB 99\nCOPY l l DB x\nCOPY nokey x\nSELECT 7\nLRANGE l 0 -1\nSET str 12345\nEXPIRE str 1000\nCOPY str str2\nTTL str2\nOBJECT ENCODING str2\nAPPEND str2 x\nGET str\nGET str2\nCOPY str l\nCOPY str l REPLACE\nTYPE l\nGET l" },
        { "copy-encodings", "SADD s 1 2 3\nCOPY s s2\nOBJECT ENCODING s2\nSADD s x\nSREM s x\nCOPY s s3\nOBJECT ENCODING s3\nSCARD s3\nSISMEMBER s3 2\nHSET h f v\nCOPY h h2\nOBJECT ENCODING h2\nHSET h long 01234567890123456789012345678901234567890123456789012345678901234567890\nHDEL h long\nCOPY h h3 DB 2\nZADD z 1 a 2 b\nCOPY z z2 DB 2\nSELECT 2\nOBJECT ENCODING h3\nOBJECT ENCODING z2\nZRANGE z2 0 -1 WITHSCORES\nTYPE z2\nGET z2\nLPUSH z2 x\nHGET h3 f\nRPUSH l x\nCOPY l l2\nOBJECT ENCODING l2" },
        { "flush", "SET a 1\nSELECT 1\nSET b 1\nSET c 1 EX 1000\nFLUSHDB\nDBSIZE\nSELECT 0\nDBSIZE\nSELECT 2\nSET d 1\nFLUSHALL\nDBSIZE\nSELECT 0\nDBSIZE\nINFO keyspace" },
        { "scripts", "EVAL \"redis.call('SELECT', 2); redis.call('SET', 'inscript', 'x'); return redis.call('GET', 'inscript')\" 0\nGET inscript\nSELECT 2\nGET inscript\nEVAL \"return redis.call('GET', 'inscript')\" 0\nEVAL \"local r = redis.call('SELECT', 99); return r\" 0\nEVAL \"return redis.pcall('SELECT', 'x')\" 0\nMULTI\nSELECT 4\nSET t 1\nEXEC\nGET t\nSELECT 4\nGET t" },
        { "restore-errors", "RPUSH l a b c\nRESTORE l 0 xxxxxxxxxxxxxxxxxxxx\nRESTORE l2 0 xxxxxxxxxxxxxxxxxxxx\nRESTORE l2 -1 xxxxxxxxxxxxxxxxxxxx\nRESTORE l2 abc xxxxxxxxxxxxxxxxxxxx\nRESTORE l2 0 xx FOO\nRESTORE l2 0 xx IDLETIME -1\nRESTORE l2 0 xx FREQ 300\nRESTORE l2 0 xx IDLETIME\nRESTORE l2 0 xx IDLETIME 1 FREQ 1\nRESTORE l2 0 short\nDUMP nokey\nEXISTS l2" },
    };

    [Theory]
    [MemberData(nameof(Scripts))]
    public async Task Database_commands_answer_as_redis_does_through_redis_cli(string name, string script)
    {
        var ours = await RunAsync(servers.OursPort, script);
        var theirs = await RunAsync(servers.RedisPort, script);

        ours.ShouldBe(theirs, $"script '{name}'");
        theirs.ShouldNotContain("unknown command");
    }

    [Fact]
    public async Task Swapdb_and_flushdb_invalidate_a_watch_only_where_redis_does()
    {
        var ours = await WatchScenarioAsync(servers.OursPort);
        var theirs = await WatchScenarioAsync(servers.RedisPort);

        ours.ShouldBe(theirs);
        theirs.ShouldBe(
            "swapdb, key in the watched db: aborted\n" +
            "swapdb, key nowhere: ran\n" +
            "swapdb, key in the other db: aborted\n" +
            "flushdb of another db: ran\n" +
            "flushdb of the watched db: aborted\n" +
            "write in another db: ran\n");
    }

    [Fact]
    public async Task A_push_wakes_only_the_waiters_of_its_own_database_and_swapdb_serves_the_others()
    {
        var ours = await BlockingScenarioAsync(servers.OursPort);
        var theirs = await BlockingScenarioAsync(servers.RedisPort);

        ours.ShouldBe(theirs);
        theirs.ShouldBe(
            "push in db 0: :1 | waiter: nothing\n" +
            "push in db 1: :1 | waiter: *2 q y\n" +
            "db 0 still holds: :1\n" +
            "swapdb: +OK | waiter: *2 q2 z\n" +
            "left in db 1 and 2: :0 :0\n");
    }

    [Fact]
    public async Task Dump_and_restore_round_trip_every_type_with_ttl_replace_and_absttl()
    {
        var ours = await DumpRestoreScenarioAsync(servers.OursPort);
        var theirs = await DumpRestoreScenarioAsync(servers.RedisPort);

        ours.ShouldBe(theirs);
        theirs.ShouldContain("zset: restored zset listpack [a 1 b 2.5] ttl True");
        theirs.ShouldContain("set: restored set intset [1 2 3] ttl True");
    }

    [Fact]
    public async Task A_corrupt_or_foreign_dump_payload_is_refused_with_redis_error()
    {
        await using var ours = await Clients.ConnectAsync(servers.OursPort);
        await using var redis = await Clients.ConnectAsync(servers.RedisPort);
        var ourDb = ours.GetDatabase(1);
        var redisDb = redis.GetDatabase(1);
        await ourDb.ListRightPushAsync("payload", ["a", "b", "c"]);
        await redisDb.ListRightPushAsync("payload", ["a", "b", "c"]);
        var ourPayload = (await ourDb.KeyDumpAsync("payload"))!;
        var redisPayload = (await redisDb.KeyDumpAsync("payload"))!;

        foreach (var (db, payload) in new[] { (ourDb, ourPayload), (redisDb, redisPayload) })
        {
            var flipped = payload.ToArray();
            flipped[flipped.Length / 2] ^= 0x40;
            (await RestoreErrorAsync(db, flipped)).ShouldBe("ERR DUMP payload version or checksum are wrong");
            (await RestoreErrorAsync(db, payload[..^1])).ShouldBe("ERR DUMP payload version or checksum are wrong");
            (await db.KeyExistsAsync("restored")).ShouldBeFalse();
        }

        // Our format is our own: neither server takes the other's payload.
        (await RestoreErrorAsync(ourDb, redisPayload)).ShouldBe("ERR DUMP payload version or checksum are wrong");
        (await RestoreErrorAsync(redisDb, ourPayload)).ShouldBe("ERR DUMP payload version or checksum are wrong");
        await ourDb.ExecuteAsync("RESTORE", "restored", 0, ourPayload);
        (await ourDb.ListRangeAsync("restored")).Select(v => (string)v!).ShouldBe(["a", "b", "c"]);
    }

    [Fact]
    public async Task Restore_of_a_payload_with_a_good_checksum_and_a_corrupt_body_is_refused_and_creates_nothing()
    {
        await using var connection = await Clients.ConnectAsync(servers.OursPort);
        var db = connection.GetDatabase();
        await db.KeyDeleteAsync(["restored", "source"]);
        await db.ListRightPushAsync("source", ["a", "b", "c"]);
        var payload = (byte[])(await db.ExecuteAsync("DUMP", "source"))!;
        var version = payload[^10..^8];

        // type 1 (list), count 3, "a" "b" "c": each body below is re-signed, so only the body is wrong.
        byte[][] bodies =
        [
            [1, 3, 1, (byte)'a', 1, (byte)'b', 9, (byte)'c'], // a length past the end
            [1, 4, 1, (byte)'a', 1, (byte)'b', 1, (byte)'c'], // more elements declared than present
            [1, 0], // an empty collection
            [2, 2, 1, (byte)'a', 1, (byte)'a'], // a set with a duplicate member
            [1, 3, 1, (byte)'a', 1, (byte)'b', 1, (byte)'c', 0], // trailing bytes
            [1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], // a count past 64 bits
            [9, 0], // an unknown type
        ];
        foreach (var body in bodies)
        {
            var signed = Sign([.. body, .. version]);
            (await RestoreErrorAsync(db, signed)).ShouldBe("ERR Bad data format");
            (await db.KeyExistsAsync("restored")).ShouldBeFalse();

            // REPLACE over an existing key: refused before anything is replaced.
            await db.StringSetAsync("kept", "v");
            var error = await Should.ThrowAsync<RedisServerException>(() => db.ExecuteAsync("RESTORE", "kept", 0, signed, "REPLACE"));
            error.Message.ShouldBe("ERR Bad data format");
            ((string?)await db.StringGetAsync("kept")).ShouldBe("v");
        }

        // The signing is right: the untouched body, re-signed the same way, gives back the server's own payload byte for byte.
        Sign(payload[..^8]).ShouldBe(payload);
        (await db.PingAsync()).ShouldBeLessThan(TimeSpan.FromSeconds(5));
    }

    private static byte[] Sign(byte[] bodyAndVersion)
    {
        // CRC-64/XZ of everything before the checksum, little-endian, as the DUMP payload's trailer.
        var crc = ulong.MaxValue;
        foreach (var b in bodyAndVersion)
        {
            crc ^= b;
            for (var bit = 0; bit < 8; bit++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xC96C5795D7870F42 : crc >> 1;
            }
        }

        var signed = new byte[bodyAndVersion.Length + 8];
        bodyAndVersion.CopyTo(signed, 0);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(signed.AsSpan(bodyAndVersion.Length), ~crc);
        return signed;
    }

    [Fact]
    public async Task Info_keyspace_and_client_list_name_each_database()
    {
        foreach (var port in new[] { servers.OursPort, servers.RedisPort })
        {
            await using var connection = await Clients.ConnectAsync(port);
            await connection.GetServer("127.0.0.1", port).FlushAllDatabasesAsync();
            await connection.GetDatabase(0).StringSetAsync("a", "1");
            await connection.GetDatabase(3).StringSetAsync("b", "1", TimeSpan.FromHours(1));
            await connection.GetDatabase(3).StringSetAsync("c", "1");

            var keyspace = (string)(await connection.GetDatabase().ExecuteAsync("INFO", "keyspace"))!;
            keyspace.ShouldContain("db0:keys=1,expires=0,");
            keyspace.ShouldContain("db3:keys=2,expires=1,");
            keyspace.ShouldNotContain("db1:");

            await using var raw = await RawConnection.OpenAsync(port);
            await raw.SendAsync("SELECT 7\r\nCLIENT INFO\r\n");
            (await raw.ReadUntilAsync("\r\n")).ShouldBe("+OK\r\n");
            (await raw.ReadUntilAsync("\n\r\n")).ShouldContain(" db=7 ");
        }
    }

    [Fact]
    public async Task Keys_with_a_ttl_in_another_database_expire_without_being_read()
    {
        foreach (var port in new[] { servers.OursPort, servers.RedisPort })
        {
            await using var connection = await Clients.ConnectAsync(port);
            await connection.GetServer("127.0.0.1", port).FlushAllDatabasesAsync();
            var five = connection.GetDatabase(5);
            for (var i = 0; i < 20; i++)
            {
                await five.StringSetAsync($"short:{i}", "v", TimeSpan.FromMilliseconds(100));
            }

            await five.StringSetAsync("stays", "v");
            var keyspace = "";
            for (var attempt = 0; attempt < 200; attempt++)
            {
                keyspace = (string)(await five.ExecuteAsync("INFO", "keyspace"))!; // counts keys without reading them
                if (keyspace.Contains("db5:keys=1,", StringComparison.Ordinal))
                {
                    break;
                }

                await Task.Delay(50, Token);
            }

            keyspace.ShouldContain("db5:keys=1,expires=0,", customMessage: $"port {port}: active expiry did not reach database 5");
        }
    }

    [Fact]
    public async Task StackExchange_redis_works_on_database_3_as_against_redis()
    {
        var ours = await OtherDatabaseScenarioAsync(servers.OursPort);
        var theirs = await OtherDatabaseScenarioAsync(servers.RedisPort);

        ours.ShouldBe(theirs);
        theirs.ShouldContain("transaction: True");
        theirs.ShouldContain("script: in-three");
    }

    private static async Task<string> OtherDatabaseScenarioAsync(int port)
    {
        await using var connection = await Clients.ConnectAsync(port);
        await connection.GetServer("127.0.0.1", port).FlushAllDatabasesAsync();
        var three = connection.GetDatabase(3);
        var zero = connection.GetDatabase(0);
        var log = new StringBuilder();
        await three.StringSetAsync("k", "in-three");
        log.Append("db 0 sees: ").Append((string?)await zero.StringGetAsync("k") ?? "nil").Append('\n');
        var transaction = three.CreateTransaction();
        transaction.AddCondition(Condition.StringEqual("k", "in-three"));
        _ = transaction.StringIncrementAsync("counter");
        _ = transaction.HashSetAsync("hash", "f", "v");
        log.Append("transaction: ").Append(await transaction.ExecuteAsync()).Append(' ').Append(await three.StringGetAsync("counter")).Append('\n');
        var script = LuaScript.Prepare("return redis.call('GET', @key)");
        log.Append("script: ").Append(await three.ScriptEvaluateAsync(script, new { key = (RedisKey)"k" })).Append('\n');
        log.Append("move: ").Append(await three.KeyMoveAsync("hash", 4)).Append(' ').Append(await connection.GetDatabase(4).HashGetAsync("hash", "f")).Append('\n');
        log.Append("copy: ").Append(await three.KeyCopyAsync("k", "k", destinationDatabase: 5)).Append(' ').Append(await connection.GetDatabase(5).StringGetAsync("k")).Append('\n');
        log.Append("copy again: ").Append(await three.KeyCopyAsync("k", "k", destinationDatabase: 5)).Append(' ')
            .Append(await three.KeyCopyAsync("k", "k", destinationDatabase: 5, replace: true)).Append('\n');
        await three.ListRightPushAsync("list", ["a", "b"]);
        var dump = (await three.KeyDumpAsync("list"))!;
        await connection.GetDatabase(6).KeyRestoreAsync("list", dump, TimeSpan.FromMinutes(5));
        log.Append("restore in 6: ").Append(string.Join(',', await connection.GetDatabase(6).ListRangeAsync("list"))).Append(' ')
            .Append(await connection.GetDatabase(6).KeyTimeToLiveAsync("list") is { TotalMinutes: > 4 }).Append('\n');
        log.Append("wrongtype on the copy: ").Append(await ErrorOrOkAsync(connection.GetDatabase(5), "LPUSH", "k", "x")).Append('\n');
        log.Append("dbsize 3: ").Append(await three.ExecuteAsync("DBSIZE")).Append('\n');
        return log.ToString();
    }

    private static async Task<string> RestoreErrorAsync(IDatabase db, byte[] payload)
    {
        var error = await Should.ThrowAsync<RedisServerException>(() => db.ExecuteAsync("RESTORE", "restored", 0, payload));
        return error.Message;
    }

    private static async Task<string> RunAsync(int port, string script)
    {
        await using (var connection = await Clients.ConnectAsync(port))
        {
            await connection.GetServer("127.0.0.1", port).FlushAllDatabasesAsync();
        }

        return await RedisCliTests.RunRedisCliAsync(port, script);
    }

    private static async Task<string> WatchScenarioAsync(int port)
    {
        await using var watcher = await RawConnection.OpenAsync(port);
        await using var other = await RawConnection.OpenAsync(port);
        var log = new StringBuilder();
        await LineAsync(other, "FLUSHALL");
        await LineAsync(watcher, "SELECT 1");

        async Task CaseAsync(string name, string key, params string[] otherCommands)
        {
            await LineAsync(watcher, $"WATCH {key}");
            foreach (var command in otherCommands)
            {
                await LineAsync(other, command);
            }

            await LineAsync(watcher, "MULTI");
            await LineAsync(watcher, $"SET {key} mine");
            var exec = await LineAsync(watcher, "EXEC");
            if (exec == "*1")
            {
                await LineAsync(watcher, null);
            }

            log.Append(name).Append(": ").Append(exec == "*-1" ? "aborted" : "ran").Append('\n');
            await LineAsync(other, "SELECT 0");
        }

        await LineAsync(other, "SELECT 1");
        await LineAsync(other, "SET w1 a");
        await CaseAsync("swapdb, key in the watched db", "w1", "SWAPDB 1 2");
        await CaseAsync("swapdb, key nowhere", "w2", "SWAPDB 1 2");
        await LineAsync(other, "SELECT 2");
        await LineAsync(other, "SET w3 a");
        await CaseAsync("swapdb, key in the other db", "w3", "SWAPDB 1 2");
        await LineAsync(other, "SELECT 1");
        await LineAsync(other, "SET w4 a");
        await CaseAsync("flushdb of another db", "w4", "SELECT 3", "SET x 1", "FLUSHDB");
        await CaseAsync("flushdb of the watched db", "w4", "SELECT 1", "FLUSHDB");
        await LineAsync(other, "SELECT 1");
        await LineAsync(other, "SET w5 a");
        await CaseAsync("write in another db", "w5", "SELECT 0", "SET w5 b");
        return log.ToString();
    }

    private static async Task<string> BlockingScenarioAsync(int port)
    {
        await using var waiter = await RawConnection.OpenAsync(port);
        await using var pusher = await RawConnection.OpenAsync(port);
        var log = new StringBuilder();
        await LineAsync(pusher, "FLUSHALL");
        await LineAsync(waiter, "SELECT 1");
        await waiter.SendAsync("BLPOP q 10\r\n");
        await WaitUntilBlockedAsync(pusher);
        log.Append("push in db 0: ").Append(await LineAsync(pusher, "RPUSH q x"));
        log.Append(" | waiter: ").Append((await waiter.ReadAsync(1, TimeSpan.FromMilliseconds(300))).Length == 0 ? "nothing" : "woken").Append('\n');
        await LineAsync(pusher, "SELECT 1");
        log.Append("push in db 1: ").Append(await LineAsync(pusher, "RPUSH q y"));
        log.Append(" | waiter: ").Append(await ReadArrayAsync(waiter)).Append('\n');
        await LineAsync(pusher, "SELECT 0");
        log.Append("db 0 still holds: ").Append(await LineAsync(pusher, "LLEN q")).Append('\n');

        await waiter.SendAsync("BLPOP q2 10\r\n");
        await WaitUntilBlockedAsync(pusher);
        await LineAsync(pusher, "SELECT 2");
        await LineAsync(pusher, "RPUSH q2 z");
        log.Append("swapdb: ").Append(await LineAsync(pusher, "SWAPDB 1 2"));
        log.Append(" | waiter: ").Append(await ReadArrayAsync(waiter)).Append('\n');
        log.Append("left in db 1 and 2: ").Append(await LineAsync(pusher, "LLEN q2"));
        await LineAsync(pusher, "SELECT 1");
        log.Append(' ').Append(await LineAsync(pusher, "LLEN q2")).Append('\n');
        return log.ToString();
    }

    private static async Task<string> DumpRestoreScenarioAsync(int port)
    {
        await using var connection = await Clients.ConnectAsync(port);
        await connection.GetServer("127.0.0.1", port).FlushAllDatabasesAsync();
        var db = connection.GetDatabase(2);
        var log = new StringBuilder();
        await db.StringSetAsync("string", "hello");
        await db.StringSetAsync("number", "12345");
        await db.HashSetAsync("hash", [new("f1", "v1"), new("f2", "v2")]);
        await db.ListRightPushAsync("list", ["a", "b", "a"]);
        await db.SetAddAsync("set", ["1", "2", "3", "x"]);
        await db.SetRemoveAsync("set", "x"); // hashtable by history; a restore starts from the contents (intset)
        await db.SortedSetAddAsync("zset", [new("a", 1), new("b", 2.5)]);
        foreach (var key in new[] { "string", "number", "hash", "list", "set", "zset" })
        {
            var payload = (await db.KeyDumpAsync(key))!;
            await db.ExecuteAsync("RESTORE", "copy", 100_000, payload, "REPLACE");
            var type = (string)(await db.ExecuteAsync("TYPE", "copy"))!;
            var encoding = (string)(await db.ExecuteAsync("OBJECT", "ENCODING", "copy"))!;
            var contents = type switch
            {
                "string" => (string)(await db.StringGetAsync("copy"))!,
                "hash" => string.Join(' ', (await db.HashGetAllAsync("copy")).OrderBy(e => (string)e.Name!).Select(e => $"{e.Name}={e.Value}")),
                "list" => string.Join(' ', await db.ListRangeAsync("copy")),
                "set" => string.Join(' ', (await db.SetMembersAsync("copy")).Select(m => (string)m!).Order(StringComparer.Ordinal)),
                _ => string.Join(' ', (await db.SortedSetRangeByRankWithScoresAsync("copy")).Select(e => $"{e.Element} {e.Score}")),
            };
            var ttl = await db.KeyTimeToLiveAsync("copy");
            log.Append(key).Append(": restored ").Append(type).Append(' ').Append(encoding).Append(" [").Append(contents).Append("] ttl ")
                .Append(ttl is { TotalSeconds: > 90 and <= 100 }).Append('\n');
        }

        var stringPayload = (await db.KeyDumpAsync("string"))!;
        log.Append("busy: ").Append(await ErrorOrOkAsync(db, "RESTORE", "copy", 0, stringPayload)).Append('\n');
        log.Append("replace, no ttl: ").Append(await ErrorOrOkAsync(db, "RESTORE", "copy", 0, stringPayload, "REPLACE"));
        log.Append(' ').Append(await db.KeyTimeToLiveAsync("copy") is null).Append('\n');
        log.Append("absttl in the past: ").Append(await ErrorOrOkAsync(db, "RESTORE", "copy", 1000, stringPayload, "REPLACE", "ABSTTL"));
        log.Append(" exists ").Append(await db.KeyExistsAsync("copy")).Append('\n');
        var at = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeMilliseconds();
        log.Append("absttl ahead: ").Append(await ErrorOrOkAsync(db, "RESTORE", "copy", at, stringPayload, "ABSTTL"));
        log.Append(" pexpiretime ").Append((long)(await db.ExecuteAsync("PEXPIRETIME", "copy")) == at).Append('\n');
        log.Append("idletime: ").Append(await ErrorOrOkAsync(db, "RESTORE", "idle", 0, stringPayload, "IDLETIME", 1000));
        log.Append(' ').Append((long)(await db.ExecuteAsync("OBJECT", "IDLETIME", "idle")) >= 1000).Append('\n');
        log.Append("dump of a missing key: ").Append((await db.KeyDumpAsync("missing")) is null).Append('\n');
        return log.ToString();
    }

    private static async Task<string> ErrorOrOkAsync(IDatabase db, string command, params object[] args)
    {
        try
        {
            return (string)(await db.ExecuteAsync(command, args))!;
        }
        catch (RedisServerException error)
        {
            return error.Message;
        }
    }

    private static async Task WaitUntilBlockedAsync(RawConnection probe)
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            await probe.SendAsync("INFO clients\r\n");
            var header = await probe.ReadUntilAsync("\r\n");
            var length = int.Parse(header[1..^2], System.Globalization.CultureInfo.InvariantCulture);
            var info = await probe.ReadAsync(length + 2);
            if (info.Contains("blocked_clients:1", StringComparison.Ordinal))
            {
                return;
            }

            await Task.Delay(20, Token);
        }

        throw new TimeoutException("the BLPOP did not block");
    }

    /// <summary>Sends one inline command (unless null) and reads one reply line, without its CRLF.</summary>
    private static async Task<string> LineAsync(RawConnection connection, string? command)
    {
        if (command is not null)
        {
            await connection.SendAsync(command + "\r\n");
        }

        return (await connection.ReadUntilAsync("\r\n"))[..^2];
    }

    /// <summary>A BLPOP reply: "*2 key value", or the header alone for a null array.</summary>
    private static async Task<string> ReadArrayAsync(RawConnection connection)
    {
        var header = await LineAsync(connection, null);
        if (header != "*2")
        {
            return header;
        }

        await LineAsync(connection, null);
        var key = await LineAsync(connection, null);
        await LineAsync(connection, null);
        var value = await LineAsync(connection, null);
        return $"*2 {key} {value}";
    }

    /// <summary>Ours (two event loops, so SWAPDB's exclusive section spans loops) and a redis-server, for this class alone.</summary>
    public sealed class OwnServers : IAsyncLifetime
    {
        private CacheServer? _ours;
        private ThrowawayRedis? _redis;

        public int OursPort => _ours!.Port;

        public int RedisPort => _redis!.Port;

        public async ValueTask InitializeAsync()
        {
            _ours = await CacheServer.StartAsync(new CacheServerOptions { Port = 0, IoThreads = 2 }, TestContext.Current.CancellationToken);
            _redis = new ThrowawayRedis(stopOnCtrlC: false);
            await _redis.InitializeAsync();
        }

        public async ValueTask DisposeAsync()
        {
            if (_ours is not null)
            {
                await _ours.DisposeAsync();
            }

            if (_redis is not null)
            {
                await _redis.DisposeAsync();
            }
        }
    }
}
