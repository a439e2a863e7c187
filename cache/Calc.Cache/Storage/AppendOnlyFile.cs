using System.Buffers;
using System.Buffers.Text;
using Calc.Cache.Commands;
using Calc.Cache.Protocol;
using Calc.Cache.Server;

namespace Calc.Cache.Storage;

/// <summary>
/// Optional persistence (<c>--appendonly yes</c>): every successful write command is appended in RESP form and the
/// file is replayed at start. Commands with relative times (SET EX, EXPIRE, ...) are logged as the key's resulting
/// state with an absolute PEXPIREAT, so a replay later does not extend TTLs. fsync policy "everysec": the file is
/// flushed to the OS and fsynced once a second; a crash (process or machine) loses at most about the last second
/// (two if a fsync stalls). "no": flushed to the OS once a second, never fsynced (the kernel decides).
/// <para>
/// Rewrite (BGREWRITEAOF, or automatically when the file has grown by <c>auto-aof-rewrite-percentage</c> since the
/// last rewrite and is at least <c>auto-aof-rewrite-min-size</c>): a background task writes every live key's state to
/// a new file, one shard at a time under that shard's lock, while writes go on. Each write made meanwhile is also
/// recorded, as the resulting state of the keys it touched (or FLUSHALL), in a buffer. States are idempotent, so
/// replaying the snapshot and then the buffer gives the current keyspace whichever version of a key the snapshot
/// caught. Then, under the log's lock, the buffer is appended to the new file, the file is fsynced and renamed over
/// the old one (atomic: a crash leaves either the old or the new file), and logging continues in the new file.
/// </para>
/// </summary>
internal sealed class AppendOnlyFile : IDisposable
{
    private const int FileBufferSize = 64 * 1024;

    private readonly string _path;
    private readonly bool _fsync;
    private readonly ServerContext _server;
    private readonly ILogger _logger;
    private readonly Timer _flusher;
    private FileStream _file;
    private AofRecords _records;
    private MemoryStream? _rewriteBuffer;
    private Task _rewrite = Task.CompletedTask;
    private volatile bool _disposing;
    private long _baseSize;
    private long _rewrites;
    private bool _lastRewriteFailed;

    public AppendOnlyFile(string path, bool fsync, ServerContext server, ILogger logger)
    {
        _path = path;
        _fsync = fsync;
        _server = server;
        _logger = logger;
        _file = OpenForAppend(path);
        _records = new AofRecords(_file, _file.Length == 0 ? 0 : AofRecords.UnknownDatabase);
        _baseSize = _file.Length;
        _flusher = new Timer(_ => OnTick(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    /// <summary>Writers log under this lock, so the file order is the order in which writes were applied.</summary>
    public Lock Gate { get; } = new();

    /// <summary>Where write commands are logged (use with <see cref="Gate"/> held).</summary>
    public AofRecords Records => _records;

    /// <summary>
    /// While a rewrite runs: where each write also records the resulting state of the keys it touched (use with
    /// <see cref="Gate"/> held); null otherwise.
    /// </summary>
    public AofRecords? RewriteRecords { get; private set; }

    /// <summary>
    /// SWAPDB ran while a rewrite runs (call with <see cref="Gate"/> held): the snapshot may hold some stripes from
    /// before the swap and some from after, and key states cannot express the swap, so that rewrite is abandoned (the
    /// old file, which logged the SWAPDB, stays in use; the next automatic or requested rewrite starts over).
    /// </summary>
    public void SpoilRewrite() => _rewriteSpoiled = RewriteRecords is not null;

    private bool _rewriteSpoiled;

    /// <summary>For INFO persistence: whether a rewrite runs, how many finished, whether the last failed, the sizes.</summary>
    public (bool InProgress, long Rewrites, bool LastFailed, long CurrentSize, long BaseSize) Status()
    {
        lock (Gate)
        {
            return (RewriteRecords is not null, _rewrites, _lastRewriteFailed, _file.Length, _baseSize);
        }
    }

    /// <summary>Starts a background rewrite; false when one is already running (or the server is stopping).</summary>
    public bool TryStartRewrite()
    {
        lock (Gate)
        {
            if (RewriteRecords is not null || _disposing)
            {
                return false;
            }

            _rewriteBuffer = new MemoryStream();
            RewriteRecords = new AofRecords(_rewriteBuffer, AofRecords.UnknownDatabase);
            _rewriteSpoiled = false;
            _rewrite = Task.Factory.StartNew(Rewrite, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            return true;
        }
    }

    public void Flush()
    {
        lock (Gate)
        {
            try
            {
                _file.Flush(flushToDisk: _fsync);
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    /// <summary>Flushes and fsyncs the log if its lock can be had within <paramref name="wait"/> (forced shutdown); false if not.</summary>
    public bool TryFlushToDisk(TimeSpan wait)
    {
        if (!Gate.TryEnter(wait))
        {
            return false;
        }

        try
        {
            _file.Flush(flushToDisk: true);
            return true;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
        finally
        {
            Gate.Exit();
        }
    }

    public void Dispose()
    {
        _flusher.Dispose();
        _disposing = true; // a running rewrite stops at the next shard and leaves the old file as it is
        _rewrite.Wait(TimeSpan.FromSeconds(30));
        lock (Gate)
        {
            _file.Flush(flushToDisk: true);
            _file.Dispose();
        }
    }

    /// <summary>Replays a log into the keyspace; a torn last command (crash mid-write) is ignored, as Redis's aof-load-truncated.</summary>
    public static long Replay(string path, ServerContext server, ILogger logger)
    {
        if (!File.Exists(path))
        {
            return 0;
        }

        var sink = new ArrayBufferWriter<byte>();
        var session = new RespSession(server, new RespWriter(sink), "aof", "aof", replaying: true);
        var request = new RespRequest();
        var buffer = new ReadOnlySequence<byte>(File.ReadAllBytes(path));
        var limits = server.Options.Limits;
        long commands = 0;
        RespParseStatus status;
        while ((status = RespParser.TryParse(ref buffer, request, limits, out var error)) == RespParseStatus.Complete)
        {
            session.Execute(request);
            sink.ResetWrittenCount();
            commands++;
        }

        if (status == RespParseStatus.Error || buffer.Length > 0)
        {
            LogTruncated(logger, path, buffer.Length);
        }

        return commands;
    }

    private static FileStream OpenForAppend(string path) =>
        new(path, FileMode.Append, FileAccess.Write, FileShare.Read, FileBufferSize);

    private void OnTick()
    {
        Flush();
        var percentage = _server.Options.AutoAofRewritePercentage;
        if (percentage <= 0 || _disposing)
        {
            return;
        }

        long size, baseSize;
        lock (Gate)
        {
            if (RewriteRecords is not null)
            {
                return;
            }

            size = _file.Length;
            baseSize = _baseSize;
        }

        // As redis: when the file has grown by the percentage since the last rewrite (or the start), and is big enough.
        if (size >= _server.Options.AutoAofRewriteMinSize && (size - baseSize) * 100 >= baseSize * percentage)
        {
            TryStartRewrite();
        }
    }

    private void Rewrite()
    {
        var temp = _path + ".rewrite";
        FileStream? rewritten = null;
        try
        {
            rewritten = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, FileBufferSize);
            var records = new AofRecords(rewritten, 0);
            var now = Clock.UnixMs;
            foreach (var keyspace in _server.Databases.Existing)
            {
                for (var i = 0; i < Keyspace.ShardCount; i++)
                {
                    if (_disposing)
                    {
                        throw new OperationCanceledException("The server is stopping.");
                    }

                    var shard = keyspace[i];
                    lock (shard)
                    {
                        foreach (var entry in shard.Entries())
                        {
                            if (!entry.IsExpired(now))
                            {
                                records.Select(keyspace.Index);
                                records.State(entry.Key, entry);
                            }
                        }
                    }
                }
            }

            rewritten.Flush(flushToDisk: true); // the long part of the fsync, outside the log's lock
            lock (Gate)
            {
                if (_rewriteSpoiled)
                {
                    throw new InvalidOperationException("SWAPDB ran during the rewrite; the rewrite is abandoned.");
                }

                _rewriteBuffer!.WriteTo(rewritten);
                rewritten.Flush(flushToDisk: true);
                File.Move(temp, _path, overwrite: true);
                DirectorySync.Flush(Path.GetDirectoryName(Path.GetFullPath(_path))!); // the rename itself, to disk
                _file.Dispose();
                _file = rewritten; // the open descriptor follows the rename
                rewritten = null;
                _records = new AofRecords(_file, AofRecords.UnknownDatabase);
                _baseSize = _file.Length;
                _rewrites++;
                _lastRewriteFailed = false;
                EndRewrite();
            }

            LogRewritten(_logger, _path, _baseSize);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            lock (Gate)
            {
                _lastRewriteFailed = true;
                EndRewrite();
            }

            rewritten?.Dispose();
            TryDelete(temp);
            LogRewriteFailed(_logger, _path, ex);
        }
    }

    private void EndRewrite()
    {
        RewriteRecords = null;
        _rewriteBuffer = null;
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static void LogTruncated(ILogger logger, string path, long bytes) =>
        logger.LogWarning("AOF {Path}: ignored {Bytes} bytes of a truncated or damaged last command", path, bytes);

    private static void LogRewritten(ILogger logger, string path, long bytes) =>
        logger.LogInformation("AOF {Path}: rewritten, {Bytes} bytes", path, bytes);

    private static void LogRewriteFailed(ILogger logger, string path, Exception exception) =>
        logger.LogError(exception, "AOF {Path}: rewrite failed; the old file stays in use", path);
}

/// <summary>
/// Writes commands in RESP form to a stream: the log itself, a rewrite's new file or its buffer. Straight from the
/// spans given: nothing is allocated per record.
/// </summary>
internal sealed class AofRecords(Stream stream, int database)
{
    /// <summary>Where the stream's position has no known selected database: the next record starts with SELECT.</summary>
    public const int UnknownDatabase = -1;

    private int _database = database;

    /// <summary>Writes SELECT when the records so far leave another database selected (replay runs them in order).</summary>
    public void Select(int db)
    {
        if (db == _database)
        {
            return;
        }

        Span<byte> digits = stackalloc byte[11];
        Utf8Formatter.TryFormat(db, digits, out var written);
        WriteLength((byte)'*', 2);
        WriteBulk("SELECT"u8);
        WriteBulk(digits[..written]);
        _database = db;
    }

    /// <summary>A command as it was received.</summary>
    public void Append(RespRequest request)
    {
        WriteLength((byte)'*', request.Count);
        for (var i = 0; i < request.Count; i++)
        {
            WriteBulk(request[i]);
        }
    }

    /// <summary>A command given as its arguments (what a non-deterministic command amounts to: SPOP as SREM, BLPOP as LPOP).</summary>
    public void Append(ReadOnlySpan<byte[]> arguments)
    {
        WriteLength((byte)'*', arguments.Length);
        foreach (var argument in arguments)
        {
            WriteBulk(argument);
        }
    }

    /// <summary>
    /// What an expiry command did to <paramref name="key"/>: its absolute expiry, or DEL when the key is gone (an
    /// expiry in the past deletes it); nothing when it has no expiry (the command then changed nothing).
    /// </summary>
    public void Expiry(ReadOnlySpan<byte> key, CacheEntry? entry)
    {
        if (entry is null)
        {
            Command("DEL"u8, key);
        }
        else if (entry.ExpiresAt != 0)
        {
            Span<byte> digits = stackalloc byte[20];
            Utf8Formatter.TryFormat(entry.ExpiresAt, digits, out var written);
            Command("PEXPIREAT"u8, key, digits[..written]);
        }
    }

    public void FlushDb()
    {
        WriteLength((byte)'*', 1);
        WriteBulk("FLUSHDB"u8);
    }

    public void FlushAll()
    {
        WriteLength((byte)'*', 1);
        WriteBulk("FLUSHALL"u8);
    }

    /// <summary>
    /// The commands that recreate a key as <paramref name="entry"/> holds it (DEL when it is null), with an absolute
    /// expiry: replaying them gives the same key whatever it held before (call with the key's shard locked).
    /// </summary>
    public void State(ReadOnlySpan<byte> key, CacheEntry? entry)
    {
        if (entry is null)
        {
            Command("DEL"u8, key);
            return;
        }

        if (entry.Value is byte[] value)
        {
            Command("SET"u8, key, value); // SET without KEEPTTL also clears an expiry the key had
        }
        else
        {
            // A collection as DEL plus commands of at most ItemsPerCommand elements each (as Redis's rewrite:
            // AOF_REWRITE_ITEMS_PER_CMD), so no replayed command nears the parser's argument limit.
            Command("DEL"u8, key);
            switch (entry.Value)
            {
                case HashValue hash:
                    Chunked("HSET"u8, key, hash.Count, 2, hash.Fields, static (r, pair) => { r.WriteBulk(pair.Key); r.WriteBulk(pair.Value); });
                    break;
                case ListValue list:
                    Chunked("RPUSH"u8, key, list.Count, 1, Enumerable.Range(0, list.Count).Select(i => list[i]), static (r, item) => r.WriteBulk(item));
                    break;
                case SetValue set:
                    Chunked("SADD"u8, key, set.Count, 1, Enumerable.Range(0, set.Count).Select(i => set[i]), static (r, item) => r.WriteBulk(item));
                    break;
                case SortedSetValue zset:
                    Chunked("ZADD"u8, key, zset.Count, 2, Enumerable.Range(0, zset.Count).Select(zset.Dense), static (r, item) =>
                    {
                        r.WriteBulk(System.Text.Encoding.ASCII.GetBytes(Commands.RespSession.FormatScore(item.Score)));
                        r.WriteBulk(item.Member);
                    });
                    break;
            }
        }

        if (entry.ExpiresAt != 0)
        {
            Span<byte> digits = stackalloc byte[20];
            Utf8Formatter.TryFormat(entry.ExpiresAt, digits, out var written);
            Command("PEXPIREAT"u8, key, digits[..written]);
        }
    }

    private const int ItemsPerCommand = 64;

    private void Chunked<T>(ReadOnlySpan<byte> name, ReadOnlySpan<byte> key, int count, int argsPerItem, IEnumerable<T> items, Action<AofRecords, T> write)
    {
        var left = count;
        var inCommand = 0;
        foreach (var item in items)
        {
            if (inCommand == 0)
            {
                var n = Math.Min(left, ItemsPerCommand);
                WriteLength((byte)'*', 2 + (n * argsPerItem));
                WriteBulk(name);
                WriteBulk(key);
                inCommand = n;
                left -= n;
            }

            write(this, item);
            inCommand--;
        }
    }

    private void Command(ReadOnlySpan<byte> name, ReadOnlySpan<byte> key)
    {
        WriteLength((byte)'*', 2);
        WriteBulk(name);
        WriteBulk(key);
    }

    private void Command(ReadOnlySpan<byte> name, ReadOnlySpan<byte> key, ReadOnlySpan<byte> argument)
    {
        WriteLength((byte)'*', 3);
        WriteBulk(name);
        WriteBulk(key);
        WriteBulk(argument);
    }

    internal void WriteBulk(ReadOnlySpan<byte> data)
    {
        WriteLength((byte)'$', data.Length);
        stream.Write(data);
        stream.Write("\r\n"u8);
    }

    private void WriteLength(byte prefix, long length)
    {
        Span<byte> header = stackalloc byte[24];
        header[0] = prefix;
        Utf8Formatter.TryFormat(length, header[1..], out var written);
        header[written + 1] = (byte)'\r';
        header[written + 2] = (byte)'\n';
        stream.Write(header[..(written + 3)]);
    }
}
