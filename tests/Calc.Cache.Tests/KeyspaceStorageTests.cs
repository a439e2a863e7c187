using System.Buffers;
using System.Text;
using Calc.Cache.Commands;
using Calc.Cache.Protocol;
using Calc.Cache.Server;
using Calc.Cache.Storage;

namespace Calc.Cache.Tests;

/// <summary>
/// The keyspace's per-key bookkeeping: random sampling straight from the shards' hash tables (RANDOMKEY, eviction),
/// memory accounting and entry size. Storage-level, so thousands of samples take milliseconds and the keyspace holds
/// exactly the keys a test put there.
/// </summary>
public class KeyspaceStorageTests
{
    private const long Now = 1_000_000;

    [Fact]
    public void A_cache_entry_takes_48_bytes_of_heap()
    {
        var key = "k"u8.ToArray();
        var entries = new CacheEntry[1000];
        entries[0] = new CacheEntry(key, key);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < entries.Length; i++)
        {
            entries[i] = new CacheEntry(key, key);
        }

        ((GC.GetAllocatedBytesForCurrentThread() - before) / entries.Length).ShouldBe(48);
    }

    [Fact]
    public void Idle_time_counts_whole_seconds_since_the_last_touch_and_never_goes_negative()
    {
        var entry = new CacheEntry("k"u8.ToArray(), "v"u8.ToArray());
        entry.Touch(1_800_000_000_250);

        entry.IdleSeconds(1_800_000_000_900).ShouldBe(0);
        entry.IdleSeconds(1_800_000_007_300).ShouldBe(7);
        entry.IdleSeconds(1_799_999_990_000).ShouldBe(0);
        entry.Touch(1_800_000_010_000);
        entry.IdleSeconds(1_800_000_012_000).ShouldBe(2);
    }

    [Fact]
    public void Used_memory_follows_strings_and_hashes_as_they_change_and_returns_to_zero_when_they_are_gone()
    {
        var context = new ServerContext(new CacheServerOptions());
        var session = new RespSession(context, new RespWriter(new ArrayBufferWriter<byte>(4096)), "test", "test");
        var request = new RespRequest();
        var keyspace = context.Databases[0];
        void Run(string command)
        {
            var buffer = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(command + "\r\n"));
            RespParser.TryParse(ref buffer, request, new RespLimits(), out _).ShouldBe(RespParseStatus.Complete);
            session.Execute(request);
        }

        Run("SET s abc");
        var oneString = keyspace.UsedMemory;
        oneString.ShouldBe(MemoryEstimate.Entry + MemoryEstimate.Array(1) + MemoryEstimate.Array(3));
        Run("SET s xyz");
        keyspace.UsedMemory.ShouldBe(oneString);
        Run("APPEND s 0123456789");
        keyspace.UsedMemory.ShouldBe(oneString + 8);
        Run("SETRANGE s 40 z");
        Run("SET n 10");
        Run("INCRBY n 1000000");
        Run("HSET h a 1 b 2 c 3");
        var withHash = keyspace.UsedMemory;
        Run("HSET h d 4");
        keyspace.UsedMemory.ShouldBeGreaterThan(withHash);
        Run("HDEL h d");
        keyspace.UsedMemory.ShouldBe(withHash);
        Run("HINCRBY h a 1000000000");
        Run("RENAME h hash-with-a-longer-name");
        Run("RENAME s string-with-a-longer-name");
        Run("SET string-with-a-longer-name short");
        Run("HSET h2 f v");
        Run("HDEL h2 f");
        Run("HSET h3 f v");
        Run("SET h3 now-a-string");
        Run("DEL n string-with-a-longer-name");
        Run("DEL hash-with-a-longer-name h3");
        keyspace.Count().ShouldBe(0);
        keyspace.UsedMemory.ShouldBe(0);

        Run("HSET h a 1");
        Run("SET s v");
        Run("FLUSHALL");
        keyspace.UsedMemory.ShouldBe(0);

        // Every database counts toward used_memory; a key's bytes follow it through MOVE, COPY, SWAPDB and FLUSHDB.
        var three = context.Databases[3];
        Run("RPUSH l a b c");
        var oneList = keyspace.UsedMemory;
        Run("MOVE l 3");
        (keyspace.UsedMemory, three.UsedMemory).ShouldBe((0, oneList));
        Run("SELECT 3");
        Run("COPY l l DB 5");
        context.Databases[5].UsedMemory.ShouldBe(oneList);
        context.Databases.UsedMemory.ShouldBe(2 * oneList);
        Run("SWAPDB 3 0");
        (keyspace.UsedMemory, three.UsedMemory).ShouldBe((oneList, 0));
        Run("SELECT 5");
        Run("FLUSHDB");
        context.Databases.UsedMemory.ShouldBe(oneList);
        Run("FLUSHALL");
        context.Databases.UsedMemory.ShouldBe(0);
    }

    [Fact]
    public void Randomkey_returns_every_live_key_over_enough_calls_and_never_a_deleted_one()
    {
        var keyspace = new Keyspace();
        AddKeys(keyspace, 40);
        for (var i = 0; i < 40; i += 2)
        {
            Delete(keyspace, $"k:{i}");
        }

        var seen = new HashSet<string>();
        for (var i = 0; i < 20_000; i++)
        {
            seen.Add(Encoding.ASCII.GetString(keyspace.RandomKey(Now)!));
        }

        seen.OrderBy(k => k, StringComparer.Ordinal).ShouldBe(Enumerable.Range(0, 40).Where(i => i % 2 == 1).Select(i => $"k:{i}").OrderBy(k => k, StringComparer.Ordinal));
    }

    [Fact]
    public void Randomkey_on_an_empty_keyspace_is_null_also_after_every_key_was_deleted()
    {
        var keyspace = new Keyspace();
        keyspace.RandomKey(Now).ShouldBeNull();
        AddKeys(keyspace, 3000);
        for (var i = 0; i < 3000; i++)
        {
            Delete(keyspace, $"k:{i}");
        }

        keyspace.RandomKey(Now).ShouldBeNull();
        keyspace.Count().ShouldBe(0);
        keyspace.UsedMemory.ShouldBe(0);
    }

    [Fact]
    public void Keys_deleted_between_samples_never_come_back_from_sampling_or_listing()
    {
        var keyspace = new Keyspace();
        var live = AddKeys(keyspace, 5000);
        var random = new Random(7);
        for (var round = 0; round < 4900; round++)
        {
            // Delete a sampled key, as eviction does: this walks the tables while they shrink under the deletes.
            var sampled = Encoding.ASCII.GetString(keyspace.RandomKey(Now)!);
            live.ShouldContain(sampled);
            Delete(keyspace, sampled);
            live.Remove(sampled);
            if (round % 7 == 0)
            {
                var other = live.ElementAt(random.Next(live.Count));
                Delete(keyspace, other);
                live.Remove(other);
            }

            if (live.Count == 0)
            {
                break;
            }
        }

        for (var i = 0; i < 2000 && live.Count > 0; i++)
        {
            live.ShouldContain(Encoding.ASCII.GetString(keyspace.RandomKey(Now)!));
        }

        AllKeys(keyspace).ShouldBe(live, ignoreOrder: true);
        keyspace.Count().ShouldBe(live.Count);
    }

    [Fact]
    public void Eviction_removes_sampled_keys_until_none_is_left_and_gives_their_memory_back()
    {
        foreach (var policy in new[] { EvictionPolicy.AllKeysLru, EvictionPolicy.AllKeysRandom })
        {
            var keyspace = new Keyspace();
            AddKeys(keyspace, 2000);
            var evicted = 0;
            while (keyspace.EvictOne(policy) && evicted < 10_000)
            {
                evicted++;
            }

            keyspace.Count().ShouldBe(0, policy.ToString());
            keyspace.UsedMemory.ShouldBe(0, policy.ToString());
            keyspace.Stats().Evicted.ShouldBe(2000, policy.ToString());
        }
    }

    [Fact]
    public void Volatile_eviction_only_takes_keys_with_a_ttl()
    {
        var keyspace = new Keyspace();
        AddKeys(keyspace, 500);
        var withTtl = new HashSet<string>();
        for (var i = 0; i < 500; i += 5)
        {
            var key = Encoding.ASCII.GetBytes($"k:{i}");
            var shard = keyspace.ShardFor(key);
            lock (shard)
            {
                shard.SetExpiry(shard.Find(key, Now)!, Now + 60_000);
            }

            withTtl.Add($"k:{i}");
        }

        var evicted = 0;
        while (evicted < 1000 && keyspace.EvictOne(EvictionPolicy.VolatileLru))
        {
            evicted++;
        }

        evicted.ShouldBe(100);
        keyspace.Count().ShouldBe(400);
        AllKeys(keyspace).ShouldNotContain(k => withTtl.Contains(k));
    }

    [Fact]
    public void An_entry_sampled_before_its_key_was_deleted_and_set_again_is_no_longer_in_the_shard()
    {
        var keyspace = new Keyspace();
        var key = "k:1"u8.ToArray();
        var shard = keyspace.ShardFor(key);
        lock (shard)
        {
            var sampled = shard.Add(key, "old"u8.ToArray(), Now);
            shard.Remove(sampled);
            var again = shard.Add(key, "new"u8.ToArray(), Now);

            shard.Contains(sampled).ShouldBeFalse();
            shard.Contains(again).ShouldBeTrue();
        }
    }

    private static HashSet<string> AddKeys(Keyspace keyspace, int count)
    {
        var keys = new HashSet<string>();
        for (var i = 0; i < count; i++)
        {
            var key = Encoding.ASCII.GetBytes($"k:{i}");
            var shard = keyspace.ShardFor(key);
            lock (shard)
            {
                shard.Add(key, Encoding.ASCII.GetBytes($"value:{i}"), Now);
            }

            keys.Add($"k:{i}");
        }

        return keys;
    }

    private static void Delete(Keyspace keyspace, string name)
    {
        var key = Encoding.ASCII.GetBytes(name);
        var shard = keyspace.ShardFor(key);
        lock (shard)
        {
            shard.Remove(shard.Find(key, Now)!);
        }
    }

    private static List<string> AllKeys(Keyspace keyspace)
    {
        var keys = new List<byte[]>();
        for (var i = 0; i < Keyspace.ShardCount; i++)
        {
            lock (keyspace[i])
            {
                keyspace[i].CollectKeys(Now, keys, accept: null);
            }
        }

        return keys.ConvertAll(k => Encoding.ASCII.GetString(k));
    }
}
