using System.Buffers.Text;
using Calc.Cache.Storage;

namespace Calc.Cache.Commands;

// What a successful write command leaves in the append-only file.
internal sealed partial class RespSession
{
    private void LogWrite(AppendOnlyFile aof, CommandInfo info)
    {
        switch (info.Kind)
        {
            // Relative times would move on replay: log the key's resulting state with an absolute expiry instead.
            case CommandKind.Set or CommandKind.SetEx or CommandKind.PSetEx or CommandKind.GetEx
                or CommandKind.Expire or CommandKind.PExpire or CommandKind.ExpireAt or CommandKind.PExpireAt:
                LogKeyState(aof, _req[1]);
                break;
            case CommandKind.FlushDb or CommandKind.FlushAll:
                aof.Append("FLUSHALL"u8.ToArray());
                break;
            default:
                aof.Append(_req);
                break;
        }
    }

    private void LogKeyState(AppendOnlyFile aof, ReadOnlySpan<byte> key)
    {
        var shard = _keyspace.ShardFor(key);
        lock (shard)
        {
            var entry = shard.Find(key, _now, touch: false);
            var keyBytes = key.ToArray();
            if (entry is null)
            {
                aof.Append("DEL"u8.ToArray(), keyBytes);
                return;
            }

            if (entry.Value is byte[] value)
            {
                aof.Append("SET"u8.ToArray(), keyBytes, value);
            }
            else if (entry.Value is HashValue hash)
            {
                var parts = new List<byte[]>(2 + (hash.Count * 2)) { "HSET"u8.ToArray(), keyBytes };
                foreach (var (field, fieldValue) in hash.Fields)
                {
                    parts.Add(field);
                    parts.Add(fieldValue);
                }

                aof.Append("DEL"u8.ToArray(), keyBytes);
                aof.Append([.. parts]);
            }

            if (entry.ExpiresAt != 0)
            {
                Span<byte> digits = stackalloc byte[20];
                Utf8Formatter.TryFormat(entry.ExpiresAt, digits, out var written);
                aof.Append("PEXPIREAT"u8.ToArray(), keyBytes, digits[..written].ToArray());
            }
        }
    }
}
