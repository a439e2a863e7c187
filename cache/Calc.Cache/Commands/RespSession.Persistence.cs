using Calc.Cache.Storage;

namespace Calc.Cache.Commands;

// What a successful write command leaves in the append-only file (called with the log's lock held).
internal sealed partial class RespSession
{
    // Set by a command whose effect is not what replaying it would do (a random SPOP, a blocking pop): what to log
    // instead (_logAs), or that nothing changed (_logNothing: a pop that blocked). Reset before each logged command.
    private byte[][]? _logAs;
    private bool _logNothing;
    private Keyspace? _otherDatabase; // MOVE / COPY ... DB: the database the command wrote to besides the selected one

    private void LogWrite(AppendOnlyFile aof, CommandInfo info)
    {
        var records = aof.Records;
        if (_logNothing)
        {
            return;
        }

        SelectInLog(aof);

        if (_logAs is not null)
        {
            records.Append(_logAs);
            if (aof.RewriteRecords is { } rewriting)
            {
                LogForRewrite(rewriting, info);
            }

            return;
        }

        switch (info.Kind)
        {
            // Relative times would move on replay: log the key's resulting state with an absolute expiry instead.
            case CommandKind.Set or CommandKind.SetEx or CommandKind.PSetEx or CommandKind.GetEx or CommandKind.Restore:
                LogKeyState(records, _req[1]);
                break;
            case CommandKind.Expire or CommandKind.PExpire or CommandKind.ExpireAt or CommandKind.PExpireAt:
                LogKeyExpiry(records, _req[1]); // not the whole value: EXPIRE on a big list must not log the list
                break;
            case CommandKind.FlushAll:
                records.FlushAll();
                break;
            case CommandKind.FlushDb:
                records.FlushDb();
                break;
            case CommandKind.SwapDb:
                records.Append(_req);
                aof.SpoilRewrite();
                return;
            default:
                records.Append(_req);
                break;
        }

        if (aof.RewriteRecords is { } rewrite)
        {
            LogForRewrite(rewrite, info);
        }
    }

    /// <summary>
    /// While a rewrite runs: the resulting state of every key the command named (commands are not idempotent, states
    /// are: see <see cref="AppendOnlyFile"/>), or FLUSHALL.
    /// </summary>
    private void LogForRewrite(AofRecords rewrite, CommandInfo info)
    {
        switch (info.Kind)
        {
            case CommandKind.FlushAll:
                rewrite.FlushAll();
                return;
            case CommandKind.FlushDb:
                rewrite.FlushDb();
                return;
            case CommandKind.Move or CommandKind.Copy when _otherDatabase is { } other:
                // The key leaves (MOVE) or is copied into another database: its state there too.
                LogKeyState(rewrite, _req[1]);
                LogKeyState(rewrite, other, info.Kind == CommandKind.Move ? _req[1] : _req[2]);
                return;
        }

        if (info.FirstKey <= 0)
        {
            return;
        }

        var last = info.LastKey >= 0 ? info.LastKey : _req.Count + info.LastKey;
        for (var i = info.FirstKey; i <= last && i < _req.Count; i += Math.Max(1, info.Step))
        {
            LogKeyState(rewrite, _req[i]);
        }
    }

    /// <summary>Makes the log (and a running rewrite's buffer) replay the next records in the selected database.</summary>
    private void SelectInLog(AppendOnlyFile aof)
    {
        aof.Records.Select(_keyspace.Index);
        aof.RewriteRecords?.Select(_keyspace.Index);
    }

    private void LogKeyState(AofRecords records, Keyspace db, ReadOnlySpan<byte> key)
    {
        records.Select(db.Index);
        var shard = db.ShardFor(key);
        lock (shard)
        {
            records.State(key, shard.Find(key, _now, touch: false));
        }
    }

    private void LogKeyExpiry(AofRecords records, ReadOnlySpan<byte> key)
    {
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            records.Expiry(key, shard.Find(key, _now, touch: false));
        }
    }

    private void LogKeyState(AofRecords records, ReadOnlySpan<byte> key)
    {
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            records.State(key, shard.Find(key, _now, touch: false));
        }
    }
}
