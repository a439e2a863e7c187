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
/// </summary>
internal sealed class AppendOnlyFile : IDisposable
{
    private readonly FileStream _file;
    private readonly bool _fsync;
    private readonly Timer _flusher;

    public AppendOnlyFile(string path, bool fsync)
    {
        _fsync = fsync;
        _file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read, bufferSize: 64 * 1024);
        _flusher = new Timer(_ => Flush(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    /// <summary>Writers log under this lock, so the file order is the order in which writes were applied.</summary>
    public Lock Gate { get; } = new();

    /// <summary>Appends a command (call with <see cref="Gate"/> held).</summary>
    public void Append(RespRequest request)
    {
        WriteLength((byte)'*', request.Count);
        for (var i = 0; i < request.Count; i++)
        {
            WriteBulk(request[i]);
        }
    }

    /// <summary>Appends a command given as parts (call with <see cref="Gate"/> held).</summary>
    public void Append(params ReadOnlySpan<byte[]> parts)
    {
        WriteLength((byte)'*', parts.Length);
        foreach (var part in parts)
        {
            WriteBulk(part);
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

    public void Dispose()
    {
        _flusher.Dispose();
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

    private void WriteBulk(ReadOnlySpan<byte> data)
    {
        WriteLength((byte)'$', data.Length);
        _file.Write(data);
        _file.Write("\r\n"u8);
    }

    private void WriteLength(byte prefix, long length)
    {
        Span<byte> header = stackalloc byte[24];
        header[0] = prefix;
        Utf8Formatter.TryFormat(length, header[1..], out var written);
        header[written + 1] = (byte)'\r';
        header[written + 2] = (byte)'\n';
        _file.Write(header[..(written + 3)]);
    }

    private static void LogTruncated(ILogger logger, string path, long bytes) =>
        logger.LogWarning("AOF {Path}: ignored {Bytes} bytes of a truncated or damaged last command", path, bytes);
}
