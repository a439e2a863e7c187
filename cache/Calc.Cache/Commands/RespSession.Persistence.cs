using Calc.Cache.Storage;

namespace Calc.Cache.Commands;

// What a successful write command leaves in the append-only file (called with the log's lock held).
internal sealed partial class RespSession
{
    private void LogWrite(AppendOnlyFile aof, CommandInfo info)
    {
        var records = aof.Records;
        switch (info.Kind)
        {
            // Relative times would move on replay: log the key's resulting state with an absolute expiry instead.
            case CommandKind.Set or CommandKind.SetEx or CommandKind.PSetEx or CommandKind.GetEx
                or CommandKind.Expire or CommandKind.PExpire or CommandKind.ExpireAt or CommandKind.PExpireAt:
                LogKeyState(records, _req[1]);
                break;
            case CommandKind.FlushDb or CommandKind.FlushAll:
                records.FlushAll();
                break;
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
        if (info.Kind is CommandKind.FlushDb or CommandKind.FlushAll)
        {
            rewrite.FlushAll();
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

    private void LogKeyState(AofRecords records, ReadOnlySpan<byte> key)
    {
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            records.State(key, shard.Find(key, _now, touch: false));
        }
    }
}
