using System.Security.Cryptography;
using System.Text;

namespace Calc.Data.Redis;

/// <summary>
/// The Lua scripts of the Redis provider. Every write is one script, so it is atomic on the server and needs no
/// WATCH/MULTI (which a connection multiplexed among many callers cannot use). Reads that filter expired entries are scripts
/// too, so a page or a count is taken from one consistent state.
/// </summary>
/// <remarks>
/// Key layout of a collection (base <c>{prefix}{{collection}}</c>, e.g. <c>calc:{orders}</c>):
/// <c>base:doc:{id}</c> hash {body, version, expires_at} with the document's TTL;
/// <c>base:ids</c> zset of every id; <c>base:idx:{value}</c> zset per index value;
/// <c>base:index-values</c> set of the index values that have a zset; <c>base:expiry</c> zset id by expiry (Unix ms);
/// <c>base:entries</c> hash id to entry, which outlives a document removed by its TTL so that its zset members can
/// still be found. An entry is the sort key as 16 hex digits (sign bit flipped, so text order is numeric order)
/// followed by <c>0</c> (not indexed) or <c>1</c> and the index value. Zset members are the entry's 16 hex digits
/// and the id, all with score 0: their byte order is sort key, then id, exact over the whole long range (a score,
/// a double, is not).
/// KEYS: 1 ids, 2 expiry, 3 entries, 4 index-values, 5 the document (single-document scripts).
/// ARGV: 1 base, 2 now (Unix ms, the application's clock decides what has expired), then per script.
/// </remarks>
internal static class RedisScripts
{
    private const string Common = """
        local base, now = ARGV[1], tonumber(ARGV[2])

        -- Returns true and the version when the document exists and has not expired.
        local function live(doc)
          local meta = redis.call('HMGET', doc, 'version', 'expires_at')
          if not meta[1] or (meta[2] and tonumber(meta[2]) <= now) then return false, nil end
          return true, meta[1]
        end

        -- Removes a document and every trace of it (zset members, entry, expiry).
        local function unlink(id)
          local entry = redis.call('HGET', KEYS[3], id)
          if entry then
            local member = string.sub(entry, 1, 16) .. id
            redis.call('ZREM', KEYS[1], member)
            if string.sub(entry, 17, 17) == '1' then
              local value = string.sub(entry, 18)
              local index = base .. ':idx:' .. value
              redis.call('ZREM', index, member)
              if redis.call('ZCARD', index) == 0 then redis.call('SREM', KEYS[4], value) end
            end
            redis.call('HDEL', KEYS[3], id)
          end
          redis.call('ZREM', KEYS[2], id)
          redis.call('DEL', base .. ':doc:' .. id)
        end

        -- ARGV: 3 id, 4 body, 5 version, 6 entry, 7 expires_at (Unix ms) or ''.
        local function store()
          local id, entry, expires = ARGV[3], ARGV[6], ARGV[7]
          local member = string.sub(entry, 1, 16) .. id
          redis.call('HSET', KEYS[5], 'body', ARGV[4], 'version', ARGV[5])
          if expires ~= '' then
            redis.call('HSET', KEYS[5], 'expires_at', expires)
            redis.call('ZADD', KEYS[2], expires, id)
            -- A time in the past deletes the key at once; the entries stay until a purge, filtered out by reads.
            redis.call('PEXPIREAT', KEYS[5], expires)
          end
          redis.call('ZADD', KEYS[1], 0, member)
          if string.sub(entry, 17, 17) == '1' then
            local value = string.sub(entry, 18)
            redis.call('ZADD', base .. ':idx:' .. value, 0, member)
            redis.call('SADD', KEYS[4], value)
          end
          redis.call('HSET', KEYS[3], id, entry)
        end

        """;

    /// <summary>Returns 1 when written, 0 when a live document has the id. ARGV 3..7 as <c>store</c>.</summary>
    public static readonly RedisScript Insert = new(Common + """
        if live(KEYS[5]) then return 0 end
        unlink(ARGV[3])
        store()
        return 1
        """);

    /// <summary>Returns 1 when written, 0 on a version conflict, -1 when there is no live document. ARGV 3..7 as <c>store</c>, 8 expected version.</summary>
    public static readonly RedisScript Update = new(Common + """
        local exists, version = live(KEYS[5])
        if not exists then return -1 end
        if version ~= ARGV[8] then return 0 end
        unlink(ARGV[3])
        store()
        return 1
        """);

    /// <summary>Returns 1 when a live document was deleted, else 0 (an expired one is removed as well). ARGV 3 id.</summary>
    public static readonly RedisScript Delete = new(Common + """
        local existed = live(KEYS[5])
        unlink(ARGV[3])
        if existed then return 1 end
        return 0
        """);

    /// <summary>Removes up to ARGV 3 expired documents; returns how many.</summary>
    public static readonly RedisScript Purge = new(Common + """
        local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
        for _, id in ipairs(ids) do unlink(id) end
        return #ids
        """);

    /// <summary>
    /// A page of live documents as a flat array (id, body, version, expires_at or '') walking the zset KEYS 1 in
    /// order; KEYS 2 expiry. ARGV 3 offset, 4 limit, 5 '1' for descending.
    /// </summary>
    public static readonly RedisScript Page = new("""
        local base, now = ARGV[1], tonumber(ARGV[2])
        local skip, limit = tonumber(ARGV[3]), tonumber(ARGV[4])
        local range = ARGV[5] == '1' and 'ZREVRANGE' or 'ZRANGE'
        local position = 0
        -- With no expired entry waiting for a purge, ranks in the zset are ranks among live documents.
        if redis.call('ZCOUNT', KEYS[2], '-inf', ARGV[2]) == 0 then position, skip = skip, 0 end
        local page, found, batch = {}, 0, math.max(limit, 100)
        while found < limit do
          local members = redis.call(range, KEYS[1], position, position + batch - 1)
          if #members == 0 then break end
          position = position + #members
          for _, member in ipairs(members) do
            local id = string.sub(member, 17)
            local doc = redis.call('HMGET', base .. ':doc:' .. id, 'body', 'version', 'expires_at')
            -- A missing document was removed by its TTL (the server's clock ran ahead of ours).
            if doc[1] and (not doc[3] or tonumber(doc[3]) > now) then
              if skip > 0 then
                skip = skip - 1
              else
                page[#page + 1] = id
                page[#page + 1] = doc[1]
                page[#page + 1] = doc[2]
                page[#page + 1] = doc[3] or ''
                found = found + 1
                if found == limit then break end
              end
            end
          end
        end
        return page
        """);

    /// <summary>
    /// Loads the live documents among KEYS (document keys, all of one collection so one cluster slot) as a flat array
    /// (position of the key in KEYS, body, version, expires_at or ''). ARGV 1 now (Unix ms). Read-only.
    /// </summary>
    public static readonly RedisScript LoadMany = new("""
        local now, found = tonumber(ARGV[1]), {}
        for i, key in ipairs(KEYS) do
          local doc = redis.call('HMGET', key, 'body', 'version', 'expires_at')
          if doc[1] and (not doc[3] or tonumber(doc[3]) > now) then
            found[#found + 1] = i
            found[#found + 1] = doc[1]
            found[#found + 1] = doc[2]
            found[#found + 1] = doc[3] or ''
          end
        end
        return found
        """);

    /// <summary>
    /// Counts live documents. ARGV 3 mode: 'all' (an integer), 'one' with ARGV 4 the index value (an integer), or
    /// 'by' (a flat array of value, count for every value with live documents).
    /// </summary>
    public static readonly RedisScript Count = new("""
        local base, mode = ARGV[1], ARGV[3]
        if mode == 'all' then
          return redis.call('ZCARD', KEYS[1]) - redis.call('ZCOUNT', KEYS[2], '-inf', ARGV[2])
        end
        -- Expired documents not purged yet still sit in the index zsets: count them per value to subtract them.
        local expired = {}
        for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[2])) do
          local entry = redis.call('HGET', KEYS[3], id)
          if entry and string.sub(entry, 17, 17) == '1' then
            local value = string.sub(entry, 18)
            expired[value] = (expired[value] or 0) + 1
          end
        end
        if mode == 'one' then
          return redis.call('ZCARD', base .. ':idx:' .. ARGV[4]) - (expired[ARGV[4]] or 0)
        end
        local counts = {}
        for _, value in ipairs(redis.call('SMEMBERS', KEYS[4])) do
          local count = redis.call('ZCARD', base .. ':idx:' .. value) - (expired[value] or 0)
          if count > 0 then
            counts[#counts + 1] = value
            counts[#counts + 1] = count
          end
        end
        return counts
        """);
}

/// <summary>A Lua script with its SHA-1, the name Redis caches it under for EVALSHA.</summary>
internal sealed class RedisScript
{
    public RedisScript(string text)
    {
        // Scripts are written with \n line ends whatever the checkout, so the digest does not depend on git settings.
        Text = text.ReplaceLineEndings("\n");
#pragma warning disable CA5350 // SHA-1 is how Redis names cached scripts, not a security measure.
        Hash = SHA1.HashData(Encoding.UTF8.GetBytes(Text));
#pragma warning restore CA5350
    }

    public string Text { get; }

    public byte[] Hash { get; }
}
