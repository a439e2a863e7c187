using System.Globalization;
using System.Text;
using Calc.Cache.Protocol;
using Calc.Cache.Server;
using Calc.Cache.Storage;

namespace Calc.Cache.Commands;

// Server commands: INFO, CONFIG, COMMAND, DEBUG, OBJECT, TIME.
internal sealed partial class RespSession
{
    private static readonly string[] DefaultInfoSections = ["server", "clients", "memory", "persistence", "stats", "threads", "keyspace"];

    private void Info()
    {
        var sections = new List<string>();
        for (var i = 1; i < _req.Count; i++)
        {
            sections.Add(_req.GetString(i).ToLowerInvariant());
        }

        if (sections.Count == 0 || sections.Contains("all") || sections.Contains("default") || sections.Contains("everything"))
        {
            sections = [.. DefaultInfoSections];
        }

        var text = new StringBuilder();
        foreach (var section in DefaultInfoSections.Where(sections.Contains))
        {
            if (text.Length > 0)
            {
                text.Append("\r\n");
            }

            AppendInfoSection(text, section);
        }

        _w.WriteBulk(text.ToString());
    }

    private void AppendInfoSection(StringBuilder text, string section)
    {
        var options = _server.Options;
        void Line(string name, object value) => text.Append(name).Append(':').Append(Convert.ToString(value, CultureInfo.InvariantCulture)).Append("\r\n");
        switch (section)
        {
            case "server":
                var uptime = (long)(DateTimeOffset.UtcNow - _server.Started).TotalSeconds;
                text.Append("# Server\r\n");
                Line("redis_version", CompatibleRedisVersion);
                Line("calc_cache_version", typeof(RespSession).Assembly.GetName().Version?.ToString() ?? "0");
                Line("redis_mode", "standalone");
                Line("os", System.Runtime.InteropServices.RuntimeInformation.OSDescription);
                Line("arch_bits", IntPtr.Size * 8);
                Line("runtime", System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription);
                Line("process_id", Environment.ProcessId);
                Line("run_id", _server.RunId);
                Line("tcp_port", _server.Port);
                Line("uptime_in_seconds", uptime);
                Line("uptime_in_days", uptime / 86400);
                Line("executable", Environment.ProcessPath ?? "");
                break;
            case "clients":
                text.Append("# Clients\r\n");
                Line("connected_clients", _server.ConnectedClients);
                Line("maxclients", options.MaxClients);
                Line("blocked_clients", _server.Databases.BlockedClients);
                break;
            case "memory":
                var used = _server.Databases.UsedMemory;
                var rss = Environment.WorkingSet;
                text.Append("# Memory\r\n");
                Line("used_memory", used);
                Line("used_memory_human", Human(used));
                Line("used_memory_rss", rss);
                Line("used_memory_rss_human", Human(rss));
                Line("used_memory_gc_heap", GC.GetTotalMemory(forceFullCollection: false));
                var lua = _server.ScriptsIfStarted?.UsedMemory ?? 0;
                Line("used_memory_lua", lua);
                Line("used_memory_lua_human", Human(lua));
                Line("maxmemory", options.MaxMemory);
                Line("maxmemory_human", Human(options.MaxMemory));
                Line("maxmemory_policy", CacheServerOptions.PolicyName(options.MaxMemoryPolicy));
                Line("mem_fragmentation_ratio", used == 0 ? "0.00" : ((double)rss / used).ToString("F2", CultureInfo.InvariantCulture));
                Line("mem_allocator", "dotnet-gc");
                Line("gc_collections", $"{GC.CollectionCount(0)},{GC.CollectionCount(1)},{GC.CollectionCount(2)}");
                break;
            case "persistence":
                text.Append("# Persistence\r\n");
                Line("loading", 0);
                Line("aof_enabled", _server.AppendOnlyFile is null ? 0 : 1);
                Line("rdb_bgsave_in_progress", 0);
                if (_server.AppendOnlyFile is { } aof)
                {
                    var status = aof.Status();
                    Line("aof_rewrite_in_progress", status.InProgress ? 1 : 0);
                    Line("aof_rewrites", status.Rewrites);
                    Line("aof_last_bgrewrite_status", status.LastFailed ? "err" : "ok");
                    Line("aof_current_size", status.CurrentSize);
                    Line("aof_base_size", status.BaseSize);
                }
                break;
            case "stats":
                var (hits, misses, expired, evicted) = _server.Databases.Stats();
                text.Append("# Stats\r\n");
                Line("total_connections_received", _server.TotalConnections);
                Line("total_commands_processed", _server.CommandsProcessed);
                Line("rejected_connections", _server.RejectedConnections);
                Line("expired_keys", expired);
                Line("evicted_keys", evicted);
                Line("keyspace_hits", hits);
                Line("keyspace_misses", misses);
                break;
            case "threads":
                // As redis 8's section: one line per event loop; load is this server's own measure (see EpollLoopGroup).
                var loops = _server.IoThreads();
                text.Append("# Threads\r\n");
                Line("io_threads_active", loops.Count(l => l.Clients > 0));
                foreach (var loop in loops)
                {
                    Line($"io_thread_{loop.Index}", string.Create(CultureInfo.InvariantCulture, $"clients={loop.Clients},load={loop.LoadPermille / 1000.0:0.000},moved_in={loop.ConnectionsMovedIn}"));
                }

                break;
            case "keyspace":
                text.Append("# Keyspace\r\n");
                foreach (var db in _server.Databases.Existing)
                {
                    var keys = db.Count();
                    if (keys > 0)
                    {
                        text.Append(CultureInfo.InvariantCulture, $"db{db.Index}:keys={keys},expires={db.VolatileCount()},avg_ttl=0\r\n");
                    }
                }

                break;
        }
    }

    private static string Human(long bytes)
    {
        string[] units = ["B", "K", "M", "G", "T"];
        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return unit == 0 ? $"{bytes}B" : value.ToString("F2", CultureInfo.InvariantCulture) + units[unit];
    }

    private static readonly string[] ConfigNames =
        ["port", "bind", "requirepass", "maxmemory", "maxmemory-policy", "maxclients", "proto-max-bulk-len", "client-output-timeout", "client-reply-max-bytes", "keys-max-scan", "enable-debug-command", "shutdown-timeout", "io-threads", "busy-poll-us", "save", "appendonly", "appendfsync", "auto-aof-rewrite-percentage", "auto-aof-rewrite-min-size", "dir", "databases", "timeout", "busy-reply-threshold", "lua-time-limit", "script-max-time", "lua-max-memory", "client-output-buffer-limit"];

    private string ConfigValue(string name)
    {
        var o = _server.Options;
        return name switch
        {
            "port" => _server.Port.ToString(CultureInfo.InvariantCulture),
            "bind" => o.Bind,
            "requirepass" => o.RequirePass ?? "",
            "maxmemory" => o.MaxMemory.ToString(CultureInfo.InvariantCulture),
            "maxmemory-policy" => CacheServerOptions.PolicyName(o.MaxMemoryPolicy),
            "maxclients" => o.MaxClients.ToString(CultureInfo.InvariantCulture),
            "proto-max-bulk-len" => o.Limits.MaxBulkLength.ToString(CultureInfo.InvariantCulture),
            "client-output-timeout" => ((long)o.ClientOutputTimeout.TotalSeconds).ToString(CultureInfo.InvariantCulture),
            "client-reply-max-bytes" => o.ClientReplyMaxBytes.ToString(CultureInfo.InvariantCulture),
            "keys-max-scan" => o.KeysMaxScan.ToString(CultureInfo.InvariantCulture),
            "enable-debug-command" => o.EnableDebugCommand,
            "shutdown-timeout" => ((long)o.ShutdownTimeout.TotalSeconds).ToString(CultureInfo.InvariantCulture),
            "io-threads" => o.EffectiveIoThreads.ToString(CultureInfo.InvariantCulture),
            "busy-poll-us" => o.BusyPollMicroseconds.ToString(CultureInfo.InvariantCulture),
            "save" => "",
            "appendonly" => o.AppendOnly ? "yes" : "no",
            "appendfsync" => o.AppendFsync,
            "auto-aof-rewrite-percentage" => o.AutoAofRewritePercentage.ToString(CultureInfo.InvariantCulture),
            "auto-aof-rewrite-min-size" => o.AutoAofRewriteMinSize.ToString(CultureInfo.InvariantCulture),
            "dir" => Path.GetFullPath(o.Dir),
            "databases" => o.Databases.ToString(CultureInfo.InvariantCulture),
            "timeout" => "0",
            "busy-reply-threshold" or "lua-time-limit" => o.BusyReplyThresholdMs.ToString(CultureInfo.InvariantCulture),
            "script-max-time" => o.ScriptMaxTimeMs.ToString(CultureInfo.InvariantCulture),
            "lua-max-memory" => o.LuaMaxMemory.ToString(CultureInfo.InvariantCulture),
            "client-output-buffer-limit" => string.Create(CultureInfo.InvariantCulture,
                $"normal 0 0 0 slave 268435456 67108864 60 pubsub {o.PubSubHardLimit} {o.PubSubSoftLimit} {o.PubSubSoftSeconds}"),
            _ => "",
        };
    }

    private void Config()
    {
        var sub = _req.GetString(1).ToLowerInvariant();
        switch (sub)
        {
            case "get" when _req.Count >= 3:
                // As Redis: a name without * ? [ is looked up (case-insensitively) and echoed as given; others are
                // globs, matched ignoring case against the names.
                var matched = new List<(string Reply, string Name)>();
                for (var i = 2; i < _req.Count; i++)
                {
                    var pattern = _req[i];
                    if (pattern.IndexOfAny("*?["u8) < 0)
                    {
                        var given = _req.GetString(i);
                        var name = given.ToLowerInvariant();
                        if (ConfigNames.Contains(name) && !matched.Exists(m => m.Name == name))
                        {
                            matched.Add((given, name));
                        }

                        continue;
                    }

                    var glob = Glob.Compile(pattern, ignoreCase: true);
                    foreach (var name in ConfigNames)
                    {
                        if (!matched.Exists(m => m.Name == name) && glob.IsMatch(Encoding.ASCII.GetBytes(name)))
                        {
                            matched.Add((name, name));
                        }
                    }
                }

                _w.WriteMapHeader(matched.Count);
                foreach (var (reply, name) in matched)
                {
                    _w.WriteBulk(reply);
                    _w.WriteBulk(ConfigValue(name));
                }

                break;
            case "set" when _req.Count >= 4 && _req.Count % 2 == 0:
                // Validate all first, then apply: CONFIG SET with several parameters is all or nothing.
                var probe = new CacheServerOptions();
                for (var i = 2; i < _req.Count; i += 2)
                {
                    var name = _req.GetString(i).ToLowerInvariant();
                    var error = ConfigNames.Contains(name) ? probe.Set(name, _req.GetString(i + 1), atRuntime: true) : "unknown option";
                    if (error == "unknown option")
                    {
                        _w.WriteError($"ERR Unknown option or number of arguments for CONFIG SET - '{Printable(name)}'");
                        return;
                    }

                    if (error is not null)
                    {
                        _w.WriteError($"ERR CONFIG SET failed (possibly related to argument '{name}') - {error}");
                        return;
                    }
                }

                for (var i = 2; i < _req.Count; i += 2)
                {
                    _server.Options.Set(_req.GetString(i), _req.GetString(i + 1), atRuntime: true);
                }

                _w.WriteRaw(Replies.Ok);
                break;
            case "resetstat" when _req.Count == 2:
                _server.ResetStats();
                _w.WriteRaw(Replies.Ok);
                break;
            case "rewrite" when _req.Count == 2:
                _w.WriteError("ERR The server is running without a config file");
                break;
            case "help":
                WriteLines(
                    "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                    "GET <pattern>", "    Return parameters matching the glob-like <pattern> and their values.",
                    "SET <directive> <value>", "    Set the configuration <directive> to <value>.",
                    "RESETSTAT", "    Reset statistics reported by the INFO command.");
                break;
            case "get" or "set" or "resetstat" or "rewrite":
                WrongArity($"config|{sub}");
                break;
            default:
                _w.WriteError($"ERR unknown subcommand '{Printable(_req.GetString(1))}'. Try CONFIG HELP.");
                break;
        }
    }

    private void Command()
    {
        if (_req.Count == 1)
        {
            _w.WriteArrayHeader(CommandTable.All.Length);
            foreach (var info in CommandTable.All)
            {
                WriteCommandInfo(info);
            }

            return;
        }

        var sub = _req.GetString(1).ToLowerInvariant();
        switch (sub)
        {
            case "count" when _req.Count == 2:
                _w.WriteInteger(CommandTable.All.Length);
                break;
            case "list" when _req.Count == 2:
                _w.WriteArrayHeader(CommandTable.All.Length);
                foreach (var info in CommandTable.All)
                {
                    _w.WriteBulk(info.Name);
                }

                break;
            case "info":
                var requested = _req.Count == 2 ? CommandTable.All : Enumerable.Range(2, _req.Count - 2).Select(i => CommandTable.Find(_req[i])).ToArray();
                _w.WriteArrayHeader(requested.Length);
                foreach (var info in requested)
                {
                    if (info is null)
                    {
                        _w.WriteNullArray();
                    }
                    else
                    {
                        WriteCommandInfo(info);
                    }
                }

                break;
            case "docs":
                var docs = (_req.Count == 2 ? CommandTable.All : Enumerable.Range(2, _req.Count - 2).Select(i => CommandTable.Find(_req[i])))
                    .OfType<CommandInfo>().ToArray();
                _w.WriteMapHeader(docs.Length);
                foreach (var info in docs)
                {
                    _w.WriteBulk(info.Name);
                    _w.WriteMapHeader(3);
                    _w.WriteBulk("summary"u8);
                    _w.WriteBulk(info.Summary);
                    _w.WriteBulk("since"u8);
                    _w.WriteBulk("1.0.0"u8);
                    _w.WriteBulk("group"u8);
                    _w.WriteBulk(info.Group);
                }

                break;
            case "count" or "list":
                WrongArity($"command|{sub}");
                break;
            default:
                _w.WriteError($"ERR unknown subcommand '{Printable(_req.GetString(1))}'. Try COMMAND HELP.");
                break;
        }
    }

    private void WriteCommandInfo(CommandInfo info)
    {
        _w.WriteArrayHeader(10);
        _w.WriteBulk(info.Name);
        _w.WriteInteger(info.Arity);
        var flags = new List<string>();
        if ((info.Flags & CommandFlags.Write) != 0)
        {
            flags.Add("write");
        }

        if ((info.Flags & CommandFlags.ReadOnly) != 0)
        {
            flags.Add("readonly");
        }

        if ((info.Flags & CommandFlags.DenyOom) != 0)
        {
            flags.Add("denyoom");
        }

        if ((info.Flags & CommandFlags.Admin) != 0)
        {
            flags.Add("admin");
        }

        if ((info.Flags & CommandFlags.NoAuth) != 0)
        {
            flags.Add("no_auth");
        }

        if ((info.Flags & CommandFlags.Fast) != 0)
        {
            flags.Add("fast");
        }

        _w.WriteArrayHeader(flags.Count);
        foreach (var flag in flags)
        {
            _w.WriteSimpleString(Encoding.ASCII.GetBytes(flag));
        }

        _w.WriteInteger(info.FirstKey);
        _w.WriteInteger(info.LastKey);
        _w.WriteInteger(info.Step);
        _w.WriteArrayHeader(1);
        _w.WriteSimpleString(Encoding.ASCII.GetBytes("@" + info.Group));
        _w.WriteRaw(Replies.EmptyArray); // tips
        _w.WriteRaw(Replies.EmptyArray); // key specs
        _w.WriteRaw(Replies.EmptyArray); // subcommands
    }

    private void BgRewriteAof()
    {
        var aof = _server.AppendOnlyFile;
        if (aof is null)
        {
            _w.WriteError("ERR Calc.Cache rewrites the append-only file only with appendonly yes (it has no RDB snapshots to write instead)");
        }
        else if (!aof.TryStartRewrite())
        {
            _w.WriteError("ERR Background append only file rewriting already in progress");
        }
        else
        {
            _w.WriteSimpleString("Background append only file rewriting started"u8);
        }
    }

    private void Debug()
    {
        var allowed = _server.Options.EnableDebugCommand switch
        {
            "yes" => true,
            "local" => System.Net.IPEndPoint.TryParse(Address, out var remote) && System.Net.IPAddress.IsLoopback(remote.Address),
            _ => false,
        };
        if (!allowed)
        {
            _w.WriteError("ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.");
            return;
        }

        var sub = _req.GetString(1).ToLowerInvariant();
        switch (sub)
        {
            case "sleep" when _req.Count == 3:
                if (!TryParseDouble(_req[2], out var seconds) || seconds < 0 || seconds > 60)
                {
                    _w.WriteError("ERR DEBUG SLEEP takes 0 to 60 seconds here");
                    return;
                }

                Thread.Sleep(TimeSpan.FromSeconds(seconds));
                _w.WriteRaw(Replies.Ok);
                break;
            case "populate" when _req.Count is >= 3 and <= 5:
                Populate();
                break;
            default:
                _w.WriteError($"ERR unknown subcommand '{Printable(_req.GetString(1))}'. Calc.Cache supports DEBUG SLEEP and DEBUG POPULATE.");
                break;
        }
    }

    /// <summary>DEBUG POPULATE count [prefix] [size]: keys prefix:N with values value:N (padded to size), as in Redis.</summary>
    private void Populate()
    {
        if (!TryArgInteger(2, out var count))
        {
            return;
        }

        var prefix = _req.Count > 3 ? _req.ToArray(3) : "key"u8.ToArray();
        long size = -1;
        if (_req.Count > 4 && !TryArgInteger(4, out size))
        {
            return;
        }

        if (count < 0)
        {
            _w.WriteError("ERR value is out of range, must be positive");
            return;
        }

        if (size > _server.Options.Limits.MaxBulkLength)
        {
            _w.WriteRaw(Replies.StringTooLong);
            return;
        }

        // Builds the bytes directly: the only allocations are the stored key and value (no garbage per key).
        Span<byte> keyBuffer = stackalloc byte[prefix.Length + 21];
        Span<byte> valueBuffer = stackalloc byte[26];
        prefix.CopyTo(keyBuffer);
        keyBuffer[prefix.Length] = (byte)':';
        "value:"u8.CopyTo(valueBuffer);
        for (long n = 0; n < count; n++)
        {
            System.Buffers.Text.Utf8Formatter.TryFormat(n, keyBuffer[(prefix.Length + 1)..], out var keyDigits);
            System.Buffers.Text.Utf8Formatter.TryFormat(n, valueBuffer[6..], out var valueDigits);
            var key = keyBuffer[..(prefix.Length + 1 + keyDigits)];
            var shard = _keyspace.ShardFor(key);
            lock (shard)
            {
                if (shard.Find(key, _now) is null)
                {
                    var value = valueBuffer[..(6 + valueDigits)].ToArray();
                    if (size >= 0)
                    {
                        Array.Resize(ref value, (int)size);
                    }

                    shard.Add(key.ToArray(), value, _now);
                }
            }
        }

        _w.WriteRaw(Replies.Ok);
    }

    private void ObjectCommand()
    {
        var sub = _req.GetString(1).ToLowerInvariant();
        if (sub is not ("encoding" or "idletime" or "freq" or "refcount") || _req.Count != 3)
        {
            _w.WriteError(sub is "encoding" or "idletime" or "freq" or "refcount"
                ? $"ERR wrong number of arguments for 'object|{sub}' command"
                : $"ERR unknown subcommand '{Printable(_req.GetString(1))}'. Try OBJECT HELP.");
            return;
        }

        var key = _req[2];
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            var entry = shard.Find(key, _now, touch: false);
            if (entry is null)
            {
                _w.WriteNull();
                return;
            }

            switch (sub)
            {
                case "encoding":
                    _w.WriteBulk(entry.Value switch
                    {
                        HashValue hash => hash.Encoding,
                        ListValue => "quicklist", // Redis 7.0 reports every list so (listpack lists came in 7.2)
                        SetValue set => set.Encoding,
                        SortedSetValue zset => zset.Encoding,
                        byte[] bytes when bytes.Length <= 20 && TryParseInteger(bytes, out _) => "int",
                        byte[] bytes when bytes.Length <= 44 => "embstr",
                        _ => "raw",
                    });
                    break;
                case "idletime":
                    _w.WriteInteger(entry.IdleSeconds(_now));
                    break;
                default:
                    _w.WriteInteger(1);
                    break;
            }
        }
    }

    private void Time()
    {
        var micros = (DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).Ticks / 10;
        _w.WriteArrayHeader(2);
        _w.WriteBulk(micros / 1_000_000);
        _w.WriteBulk(micros % 1_000_000);
    }
}
