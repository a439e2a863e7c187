using System.Globalization;
using System.Net;
using Calc.Cache.Protocol;
using Calc.Cache.Storage;

namespace Calc.Cache.Server;

/// <summary>
/// Server settings, taken from redis-server style arguments (<c>--port 6380 --maxmemory 100mb</c>). The ones marked
/// runtime-settable change through CONFIG SET while the server runs.
/// </summary>
public sealed class CacheServerOptions
{
    /// <summary>TCP port (0 picks a free one). Default 6379.</summary>
    public int Port { get; set; } = 6379;

    /// <summary>Addresses to listen on, space separated. Default 127.0.0.1.</summary>
    public string Bind { get; set; } = "127.0.0.1";

    /// <summary>Password of the default user; null or empty means no AUTH is needed. Runtime-settable.</summary>
    public string? RequirePass { get; set; }

    /// <summary>Memory limit in bytes for keys and values (0 = none). Runtime-settable.</summary>
    public long MaxMemory { get; set; }

    /// <summary>What happens at <see cref="MaxMemory"/>. Runtime-settable.</summary>
    public EvictionPolicy MaxMemoryPolicy { get; set; } = EvictionPolicy.NoEviction;

    /// <summary>Most simultaneous clients; past it a new connection gets an error and is closed. Runtime-settable.</summary>
    public int MaxClients { get; set; } = 10000;

    /// <summary>A client whose pending replies cannot be sent for this long is disconnected (output limit).</summary>
    public TimeSpan ClientOutputTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The most keys one command may examine, so that one command cannot hold its event loop (and the other clients
    /// on it) for long: KEYS on a larger keyspace is refused with an error pointing to SCAN, and SCAN treats a larger
    /// COUNT as this. 0 = no limit (KEYS then blocks as long as it needs, as in Redis). Default 100,000.
    /// Runtime-settable.
    /// </summary>
    public long KeysMaxScan { get; set; } = 100_000;

    // --- scripting and pub/sub (RespSession.Scripting.cs, RespSession.PubSub.cs) ------------------------------

    /// <summary>
    /// busy-reply-threshold (alias lua-time-limit): after a script has run this long, other clients get -BUSY and
    /// SCRIPT KILL may stop it. Default 5000 ms, as Redis. Runtime-settable.
    /// </summary>
    public long BusyReplyThresholdMs { get; set; } = 5000;

    /// <summary>
    /// script-max-time (ours): a script still running after this long is stopped as SCRIPT KILL would (even after
    /// writes), so no script holds the server for ever, even where no other client could send SCRIPT KILL.
    /// 0 = never. Default 60000 ms. Runtime-settable.
    /// </summary>
    public long ScriptMaxTimeMs { get; set; } = 60_000;

    /// <summary>
    /// lua-max-memory (ours): the most bytes the Lua interpreter may hold (all scripts' data, cached scripts included)
    /// while a script runs or compiles. An allocation past it fails: the script ends with an out-of-memory error, its
    /// memory is collected, and the server and later scripts go on. Redis has no such limit (a script there can use
    /// all of the machine's memory). 0 = no limit. Default 64mb. Runtime-settable.
    /// </summary>
    public long LuaMaxMemory { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// client-output-buffer-limit for the pubsub class: a subscriber whose unsent messages pass
    /// <see cref="PubSubHardLimit"/> bytes, or stay above <see cref="PubSubSoftLimit"/> for
    /// <see cref="PubSubSoftSeconds"/>, is disconnected. 0 = no such limit. Default 32mb 8mb 60, as Redis.
    /// Runtime-settable.
    /// </summary>
    public long PubSubHardLimit { get; set; } = 32L * 1024 * 1024;

    public long PubSubSoftLimit { get; set; } = 8L * 1024 * 1024;

    public int PubSubSoftSeconds { get; set; } = 60;

    /// <summary>
    /// The most reply bytes one command may produce; past it the connection is closed (Redis's output buffer limit,
    /// which Redis leaves unlimited for normal clients). At least proto-max-bulk-len plus 1 KB, so a GET of the
    /// largest value always works. Default 1gb. Runtime-settable.
    /// </summary>
    public long ClientReplyMaxBytes { get; set; } = 1024L * 1024 * 1024;

    /// <summary>
    /// Who may run DEBUG (SLEEP, POPULATE): "no" (default, as Redis 7), "yes", or "local" (connections from a loopback
    /// address). Start only, as in Redis.
    /// </summary>
    public string EnableDebugCommand { get; set; } = "no";

    /// <summary>
    /// After SIGTERM (or Ctrl+C), the longest the server waits for connections to finish their commands and replies
    /// before the process ends anyway (the append-only file is flushed first either way). Default 3 s.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Number of databases (SELECT 0 .. n-1), <c>databases</c> as in redis.conf (default 16, 1-1024); start only.</summary>
    public int Databases { get; set; } = 16;

    /// <summary>Persistence: append every write to <see cref="AppendFileName"/> in <see cref="Dir"/> and replay it at start.</summary>
    public bool AppendOnly { get; set; }

    /// <summary>Directory of the append-only file. Default: the working directory.</summary>
    public string Dir { get; set; } = ".";

    /// <summary>Name of the append-only file. Default appendonly.aof.</summary>
    public string AppendFileName { get; set; } = "appendonly.aof";

    /// <summary>
    /// Rewrite the append-only file automatically once it has grown by this many percent since the last rewrite (or
    /// the start); 0 turns automatic rewrites off. Default 100, as redis.
    /// </summary>
    public int AutoAofRewritePercentage { get; set; } = 100;

    /// <summary>...and only when it is at least this big (bytes). Default 64mb, as redis.</summary>
    public long AutoAofRewriteMinSize { get; set; } = 64L * 1024 * 1024;

    /// <summary>"everysec" (fsync once a second, the default) or "no" (leave it to the kernel).</summary>
    public string AppendFsync { get; set; } = "everysec";

    /// <summary>
    /// Event-loop threads serving connections (redis.conf's io-threads); 0, the default, picks one per core. On Linux x64
    /// each is an epoll loop, and connections are packed onto as few of them as their load needs; elsewhere it sets the
    /// socket transport's I/O queue count.
    /// </summary>
    public int IoThreads { get; set; }

    /// <summary>
    /// How long (microseconds) an epoll loop keeps polling after a round that had work before it sleeps, like the
    /// kernel's busy_poll: the next request is picked up without a wake-up. Default 50; 0 turns it off. Polling starts
    /// only after a round with work, so an idle server does not poll.
    /// </summary>
    public int BusyPollMicroseconds { get; set; } = 50;

    /// <summary>How the epoll loops share connections by load; null keeps every connection on the first loop (tests that move them themselves).</summary>
    internal LoopBalancePolicy? LoopBalancing { get; set; } = LoopBalancePolicy.Default;

    /// <summary>Serve with Kestrel's socket transport and the pipe-based loop even where the epoll transport runs (tests).</summary>
    internal bool UseSocketTransport { get; set; }

    /// <summary>The number of event loops <see cref="IoThreads"/> asks for.</summary>
    internal int EffectiveIoThreads => IoThreads > 0 ? IoThreads : Environment.ProcessorCount;

    /// <summary>
    /// The most a connection's input buffer may hold: the largest request the parser's limits allow, plus 1 MB of what
    /// follows it. Below that a big SET could never complete; both transports bound their input by it.
    /// </summary>
    internal long MaxInputBytes => Limits.MaxRequestBytes + (1024 * 1024);

    /// <summary>Parser limits (bulk length, argument count, inline length, request size).</summary>
    public RespLimits Limits { get; set; } = new();

    /// <summary>Parses redis-server style arguments; throws <see cref="ArgumentException"/> with a readable message.</summary>
    public static CacheServerOptions Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var options = new CacheServerOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"Unexpected argument '{arg}'. Options look like --port 6379.");
            }

            string name, value;
            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                (name, value) = (arg[2..eq], arg[(eq + 1)..]);
            }
            else
            {
                if (i + 1 >= args.Count)
                {
                    throw new ArgumentException($"Option '{arg}' needs a value.");
                }

                (name, value) = (arg[2..], args[++i]);
            }

            var error = options.Set(name, value);
            if (error is not null)
            {
                throw new ArgumentException($"Bad option --{name} '{value}': {error}");
            }
        }

        return options;
    }

    /// <summary>Sets one option by its redis.conf name; returns an error text, or null on success.</summary>
    public string? Set(string name, string value, bool atRuntime = false)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(value);
        switch (name.ToLowerInvariant())
        {
            case "port" when !atRuntime:
                if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
                {
                    return "argument must be a port number";
                }

                Port = port;
                return null;
            case "bind" when !atRuntime:
                foreach (var address in value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    if (address != "*" && !IPAddress.TryParse(address.TrimStart('-'), out _))
                    {
                        return "argument must be IP addresses";
                    }
                }

                Bind = value;
                return null;
            case "requirepass":
                RequirePass = value.Length == 0 ? null : value;
                return null;
            case "maxmemory":
                if (!TryParseMemory(value, out var bytes))
                {
                    return "argument must be a memory value";
                }

                MaxMemory = bytes;
                return null;
            case "maxmemory-policy":
                if (!TryParsePolicy(value, out var policy))
                {
                    return "argument(s) must be one of the following: noeviction, allkeys-lru, allkeys-random, volatile-lru, volatile-random";
                }

                MaxMemoryPolicy = policy;
                return null;
            case "maxclients":
                if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var max) || max < 1)
                {
                    return "argument must be between 1 and 2147483647 inclusive";
                }

                MaxClients = max;
                return null;
            case "proto-max-bulk-len" when !atRuntime:
                if (!TryParseMemory(value, out var bulk) || bulk < 1024 * 1024)
                {
                    return "argument must be a memory value of at least 1mb";
                }

                Limits = Limits with { MaxBulkLength = bulk };
                return null;
            case "auto-aof-rewrite-percentage":
                if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var percentage))
                {
                    return "argument must be a number of percent (0 turns automatic rewrites off)";
                }

                AutoAofRewritePercentage = percentage;
                return null;
            case "auto-aof-rewrite-min-size":
                if (!TryParseMemory(value, out var minSize))
                {
                    return "argument must be a memory value";
                }

                AutoAofRewriteMinSize = minSize;
                return null;
            case "client-output-timeout":
                if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds < 1)
                {
                    return "argument must be a number of seconds";
                }

                ClientOutputTimeout = TimeSpan.FromSeconds(seconds);
                return null;
            case "busy-reply-threshold" or "lua-time-limit":
                if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var busyMs))
                {
                    return "argument must be a number of milliseconds";
                }

                BusyReplyThresholdMs = busyMs;
                return null;
            case "script-max-time":
                if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var maxMs))
                {
                    return "argument must be a number of milliseconds (0 = no limit)";
                }

                ScriptMaxTimeMs = maxMs;
                return null;
            case "lua-max-memory":
                if (!TryParseMemory(value, out var luaBytes) || luaBytes is > 0 and < 1024 * 1024)
                {
                    return "argument must be a memory value of at least 1mb (0 = no limit)";
                }

                LuaMaxMemory = luaBytes;
                return null;
            case "client-output-buffer-limit":
                return SetOutputBufferLimits(value);
            case "keys-max-scan":
                if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var maxScan))
                {
                    return "argument must be a number of keys (0 = no limit)";
                }

                KeysMaxScan = maxScan;
                return null;
            case "client-reply-max-bytes":
                if (!TryParseMemory(value, out var replyBytes) || replyBytes < Limits.MaxBulkLength + 1024)
                {
                    return "argument must be a memory value of at least proto-max-bulk-len + 1kb";
                }

                ClientReplyMaxBytes = replyBytes;
                return null;
            case "enable-debug-command" when !atRuntime:
                if (value is not ("no" or "yes" or "local"))
                {
                    return "argument(s) must be one of the following: no, yes, local";
                }

                EnableDebugCommand = value;
                return null;
            case "shutdown-timeout" when !atRuntime:
                if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var shutdownSeconds) || shutdownSeconds is < 1 or > 600)
                {
                    return "argument must be between 1 and 600 seconds inclusive";
                }

                ShutdownTimeout = TimeSpan.FromSeconds(shutdownSeconds);
                return null;
            case "io-threads" when !atRuntime:
                if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var threads) || threads is < 1 or > 128)
                {
                    return "argument must be between 1 and 128 inclusive";
                }

                IoThreads = threads;
                return null;
            case "busy-poll-us" when !atRuntime:
                if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var microseconds) || microseconds > 10_000)
                {
                    return "argument must be between 0 and 10000 inclusive";
                }

                BusyPollMicroseconds = microseconds;
                return null;
            case "appendonly" when !atRuntime:
                if (value is not ("yes" or "no"))
                {
                    return "argument must be 'yes' or 'no'";
                }

                AppendOnly = value == "yes";
                return null;
            case "dir" when !atRuntime:
                Dir = value;
                return null;
            case "appendfilename" when !atRuntime:
                if (value.Length == 0 || value.Contains('/', StringComparison.Ordinal))
                {
                    return "appendfilename can't be a path, just a filename";
                }

                AppendFileName = value;
                return null;
            case "appendfsync" when !atRuntime:
                if (value is not ("everysec" or "no"))
                {
                    return "argument must be 'everysec' or 'no' (Calc.Cache has no 'always')";
                }

                AppendFsync = value;
                return null;
            case "save":
                return null; // no snapshots here; accepted (also by CONFIG SET) so redis tooling that sets it works
            case "databases" when !atRuntime:
                if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var databases) || databases is < 1 or > 1024)
                {
                    return "argument must be between 1 and 1024 inclusive";
                }

                Databases = databases;
                return null;
            case "daemonize" or "protected-mode" or "loglevel" when !atRuntime:
                return null; // accepted for drop-in compatibility with redis-server command lines; no effect
            case "port" or "bind" or "proto-max-bulk-len" or "enable-debug-command" or "shutdown-timeout" or "io-threads" or "busy-poll-us" or "appendonly" or "dir" or "appendfilename" or "appendfsync" or "databases":
                return "can't set immutable config";
            default:
                return "unknown option";
        }
    }

    /// <summary>Redis memory units: 1k = 1000, 1kb = 1024, 1m = 1000000, 1mb = 1048576, 1g, 1gb.</summary>
    public static bool TryParseMemory(string text, out long bytes)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lower = text.Trim().ToLowerInvariant();
        long unit = 1;
        foreach (var (suffix, factor) in new (string, long)[] { ("kb", 1024), ("mb", 1024 * 1024), ("gb", 1024 * 1024 * 1024), ("k", 1000), ("m", 1000_000), ("g", 1000_000_000), ("b", 1) })
        {
            if (lower.EndsWith(suffix, StringComparison.Ordinal))
            {
                unit = factor;
                lower = lower[..^suffix.Length];
                break;
            }
        }

        bytes = 0;
        if (!long.TryParse(lower, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number > long.MaxValue / unit)
        {
            return false;
        }

        bytes = number * unit;
        return true;
    }

    /// <summary>Parses a maxmemory-policy name.</summary>
    public static bool TryParsePolicy(string text, out EvictionPolicy policy)
    {
        policy = text?.ToLowerInvariant() switch
        {
            "noeviction" => EvictionPolicy.NoEviction,
            "allkeys-lru" => EvictionPolicy.AllKeysLru,
            "allkeys-random" => EvictionPolicy.AllKeysRandom,
            "volatile-lru" => EvictionPolicy.VolatileLru,
            "volatile-random" => EvictionPolicy.VolatileRandom,
            _ => (EvictionPolicy)(-1),
        };
        return Enum.IsDefined(policy);
    }

    /// <summary>The redis.conf name of a policy.</summary>
    public static string PolicyName(EvictionPolicy policy) => policy switch
    {
        EvictionPolicy.AllKeysLru => "allkeys-lru",
        EvictionPolicy.AllKeysRandom => "allkeys-random",
        EvictionPolicy.VolatileLru => "volatile-lru",
        EvictionPolicy.VolatileRandom => "volatile-random",
        _ => "noeviction",
    };

    /// <summary>Redis's <c>class hard soft seconds</c> triples; only the pubsub class is enforced (normal and replica are accepted).</summary>
    private string? SetOutputBufferLimits(string value)
    {
        var parts = value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0 || parts.Length % 4 != 0)
        {
            return "Wrong number of arguments in buffer limit configuration.";
        }

        var pubsub = (PubSubHardLimit, PubSubSoftLimit, PubSubSoftSeconds);
        for (var i = 0; i < parts.Length; i += 4)
        {
            var name = parts[i].ToLowerInvariant();
            if (name is not ("normal" or "replica" or "slave" or "pubsub"))
            {
                return "Invalid client class specified in buffer limit configuration.";
            }

            if (!TryParseMemory(parts[i + 1], out var hard) || !TryParseMemory(parts[i + 2], out var soft)
                || !int.TryParse(parts[i + 3], NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
            {
                return "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
            }

            if (name == "pubsub")
            {
                pubsub = (hard, soft, seconds);
            }
        }

        (PubSubHardLimit, PubSubSoftLimit, PubSubSoftSeconds) = pubsub;
        return null;
    }
}
