using System.Globalization;
using System.Text;
using Calc.Cache.Protocol;
using Calc.Cache.Server;
using Calc.Cache.Storage;

namespace Calc.Cache.Commands;

/// <summary>
/// One client connection's state and its command handlers (one partial file per command family). Not thread-safe:
/// the connection loop calls <see cref="Execute"/> for one command at a time, and replies go out in request order.
/// </summary>
internal sealed partial class RespSession
{
    private readonly ServerContext _server;
    private Keyspace _keyspace; // the selected database: SELECT changes it, so a command pays no lookup of its db
    private readonly RespWriter _w;
    private RespRequest _req = null!;
    private long _now;
    private CommandInfo? _lastCommand;
    private readonly bool _replaying;

    public RespSession(ServerContext server, RespWriter writer, string address, string localAddress, bool replaying = false)
    {
        _replaying = replaying;
        _server = server;
        _keyspace = server.Databases[0];
        _w = writer;
        Id = server.NextClientId();
        Address = address;
        LocalAddress = localAddress;
        Authenticated = replaying || string.IsNullOrEmpty(server.Options.RequirePass);
    }

    public long Id { get; }

    public string Address { get; }

    public string LocalAddress { get; }

    public string? Name { get; private set; }

    public string? LibName { get; private set; }

    public string? LibVersion { get; private set; }

    public bool Authenticated { get; private set; }

    /// <summary>Unix ms when the client connected.</summary>
    public long CreatedMs { get; } = Clock.UnixMs;

    /// <summary>Unix ms of the last command.</summary>
    public long LastInteractionMs { get; private set; } = Clock.UnixMs;

    public long CommandsProcessed { get; set; }

    /// <summary>Set by QUIT: the connection closes once this reply is flushed.</summary>
    public bool CloseRequested { get; private set; }

    public int Protocol => _w.Protocol;

    /// <summary>The selected database's number (CLIENT LIST db=).</summary>
    public int Database => _keyspace.Index;

    /// <summary>SELECT without the reply (RESET, a script starting in its caller's database).</summary>
    internal void SelectDatabase(int index) => _keyspace = _server.Databases[index];

    /// <summary>Runs one parsed command and writes its reply.</summary>
    public void Execute(RespRequest request)
    {
        _req = request;
        CommandsProcessed++;
        _now = Clock.UnixMs; // the one clock read per command: expiry, LRU stamps and client idle time share it
        _w.ReplyLimit = _server.Options.ClientReplyMaxBytes;
        LastInteractionMs = _now;
        var info = CommandTable.Find(request[0]);
        if (Gated && !HoldsShared && !EnterGate(info))
        {
            return;
        }

        if (info is null)
        {
            FlagTransaction();
            UnknownCommand();
            return;
        }

        _lastCommand = info;
        if (!info.ArityOk(request.Count))
        {
            FlagTransaction();
            WrongArity(info.Name);
            return;
        }

        if (!Authenticated && (info.Flags & CommandFlags.NoAuth) == 0 && !string.IsNullOrEmpty(_server.Options.RequirePass))
        {
            FlagTransaction();
            _w.WriteRaw(Replies.NoAuth);
            return;
        }

        if (_w.Protocol == 2 && SubscriptionCount > 0 && !AllowedInSubscriberMode(info.Kind))
        {
            _w.WriteError($"ERR Can't execute '{info.Name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context");
            return;
        }

        if ((info.Flags & CommandFlags.DenyOom) != 0 && _server.Options.MaxMemory > 0 && !MakeRoom())
        {
            FlagTransaction();
            _w.WriteRaw(Replies.Oom);
            return;
        }

        if (_queued is not null && !RunsInsideMulti(info.Kind))
        {
            Queue(info);
            return;
        }

        Run(info);
    }

    /// <summary>
    /// Takes the gate's shared mode for the rest of the batch (after a busy script ended, or after this session's
    /// own EXEC). False when a script past busy-reply-threshold runs: the command got -BUSY, unless it is one Redis
    /// still serves then (SCRIPT KILL, AUTH, HELLO, QUIT), which runs without the gate.
    /// </summary>
    private bool EnterGate(CommandInfo? info)
    {
        HoldsShared = _server.Gate.EnterShared();
        if (HoldsShared)
        {
            return true;
        }

        if (info is not null && (info.Kind is CommandKind.Auth or CommandKind.Hello or CommandKind.Quit
            || (info.Kind == CommandKind.Script && _req.Count == 2 && Is(1, "kill"u8))))
        {
            return true;
        }

        _w.WriteRaw(Replies.Busy);
        return false;
    }

    /// <summary>Runs a command that passed every check: through the append-only file's lock when it writes.</summary>
    private void Run(CommandInfo info)
    {
        var aof = _server.AppendOnlyFile;
        if (aof is not null && !_replaying && (info.Flags & CommandFlags.Write) != 0)
        {
            // WARNING: the log must hold writes in the order they hit the keyspace, so with persistence on, write
            // commands run one at a time under the log's lock (reads still run in parallel).
            lock (aof.Gate)
            {
                _w.ClearErrorFlag();
                _logAs = null;
                _logNothing = false;
                _otherDatabase = null;
                Dispatch(info);
                if (!_w.ErrorWritten)
                {
                    LogWrite(aof, info);
                }

                if (_readyKeys is { Count: > 0 })
                {
                    ServeBlockedClients(aof);
                }
            }

            return;
        }

        Dispatch(info);
        if (_readyKeys is { Count: > 0 })
        {
            ServeBlockedClients(null); // a push reached a key that clients are blocked on
        }
    }

    private void Dispatch(CommandInfo info)
    {
        switch (info.Kind)
        {
            case CommandKind.Get: Get(); break;
            case CommandKind.Set: Set(); break;
            case CommandKind.SetNx: SetNx(); break;
            case CommandKind.SetEx: SetEx(1000); break;
            case CommandKind.PSetEx: SetEx(1); break;
            case CommandKind.MGet: MGet(); break;
            case CommandKind.MSet: MSet(onlyIfNoneExist: false); break;
            case CommandKind.MSetNx: MSet(onlyIfNoneExist: true); break;
            case CommandKind.Incr: IncrBy(1); break;
            case CommandKind.Decr: IncrBy(-1); break;
            case CommandKind.IncrBy: IncrByArgument(negate: false); break;
            case CommandKind.DecrBy: IncrByArgument(negate: true); break;
            case CommandKind.IncrByFloat: IncrByFloat(); break;
            case CommandKind.Append: Append(); break;
            case CommandKind.StrLen: StrLen(); break;
            case CommandKind.GetDel: GetDel(); break;
            case CommandKind.GetEx: GetEx(); break;
            case CommandKind.GetSet: GetSet(); break;
            case CommandKind.GetRange: GetRange(); break;
            case CommandKind.SetRange: SetRange(); break;
            case CommandKind.Del: Del(); break;
            case CommandKind.Unlink: Del(); break;
            case CommandKind.Exists: Exists(); break;
            case CommandKind.Keys: Keys(); break;
            case CommandKind.Scan: Scan(); break;
            case CommandKind.RandomKey: RandomKey(); break;
            case CommandKind.Rename: Rename(onlyIfNew: false); break;
            case CommandKind.RenameNx: Rename(onlyIfNew: true); break;
            case CommandKind.Type: TypeOf(); break;
            case CommandKind.DbSize: _w.WriteInteger(_keyspace.Count()); break;
            case CommandKind.FlushDb: Flush(all: false); break;
            case CommandKind.FlushAll: Flush(all: true); break;
            case CommandKind.Select: Select(); break;
            case CommandKind.SwapDb: SwapDb(); break;
            case CommandKind.Move: Move(); break;
            case CommandKind.Copy: Copy(); break;
            case CommandKind.Dump: Dump(); break;
            case CommandKind.Restore: Restore(); break;
            case CommandKind.Expire: Expire(1000, relative: true); break;
            case CommandKind.PExpire: Expire(1, relative: true); break;
            case CommandKind.ExpireAt: Expire(1000, relative: false); break;
            case CommandKind.PExpireAt: Expire(1, relative: false); break;
            case CommandKind.Ttl: Ttl(1000); break;
            case CommandKind.PTtl: Ttl(1); break;
            case CommandKind.ExpireTime: ExpireTime(1000); break;
            case CommandKind.PExpireTime: ExpireTime(1); break;
            case CommandKind.Persist: Persist(); break;
            case CommandKind.HSet: HSet(HashSetReply.Count); break;
            case CommandKind.HMSet: HSet(HashSetReply.Ok); break;
            case CommandKind.HSetNx: HSetNx(); break;
            case CommandKind.HGet: HGet(); break;
            case CommandKind.HMGet: HMGet(); break;
            case CommandKind.HGetAll: HGetAll(keys: true, values: true); break;
            case CommandKind.HKeys: HGetAll(keys: true, values: false); break;
            case CommandKind.HVals: HGetAll(keys: false, values: true); break;
            case CommandKind.HDel: HDel(); break;
            case CommandKind.HExists: HExists(); break;
            case CommandKind.HLen: HLen(); break;
            case CommandKind.HStrLen: HStrLen(); break;
            case CommandKind.HIncrBy: HIncrBy(); break;
            case CommandKind.HIncrByFloat: HIncrByFloat(); break;
            case CommandKind.LPush: Push(left: true, onlyIfExists: false); break;
            case CommandKind.RPush: Push(left: false, onlyIfExists: false); break;
            case CommandKind.LPushX: Push(left: true, onlyIfExists: true); break;
            case CommandKind.RPushX: Push(left: false, onlyIfExists: true); break;
            case CommandKind.LPop: Pop(left: true); break;
            case CommandKind.RPop: Pop(left: false); break;
            case CommandKind.LRange: LRange(); break;
            case CommandKind.LLen: LLen(); break;
            case CommandKind.LIndex: LIndex(); break;
            case CommandKind.LSet: LSet(); break;
            case CommandKind.LRem: LRem(); break;
            case CommandKind.LTrim: LTrim(); break;
            case CommandKind.LInsert: LInsert(); break;
            case CommandKind.LPos: LPos(); break;
            case CommandKind.LMove: LMove(legacy: false); break;
            case CommandKind.RPopLPush: LMove(legacy: true); break;
            case CommandKind.LMPop: LMPop(blocking: false); break;
            case CommandKind.BLMPop: LMPop(blocking: true); break;
            case CommandKind.BLPop: BlockingPop(left: true); break;
            case CommandKind.BRPop: BlockingPop(left: false); break;
            case CommandKind.BLMove: BlockingMove(legacy: false); break;
            case CommandKind.BRPopLPush: BlockingMove(legacy: true); break;
            case CommandKind.SAdd: SAdd(); break;
            case CommandKind.SRem: SRem(); break;
            case CommandKind.SMembers: SMembers(); break;
            case CommandKind.SIsMember: SIsMember(many: false); break;
            case CommandKind.SMIsMember: SIsMember(many: true); break;
            case CommandKind.SCard: SCard(); break;
            case CommandKind.SPop: SPop(); break;
            case CommandKind.SRandMember: SRandMember(); break;
            case CommandKind.SInter: SetCombine(SetOperation.Inter); break;
            case CommandKind.SUnion: SetCombine(SetOperation.Union); break;
            case CommandKind.SDiff: SetCombine(SetOperation.Diff); break;
            case CommandKind.SInterStore: SetCombineStore(SetOperation.Inter); break;
            case CommandKind.SUnionStore: SetCombineStore(SetOperation.Union); break;
            case CommandKind.SDiffStore: SetCombineStore(SetOperation.Diff); break;
            case CommandKind.SInterCard: SInterCard(); break;
            case CommandKind.SMove: SMove(); break;
            case CommandKind.SScan: SScan(); break;
            case CommandKind.ZAdd: ZAdd(); break;
            case CommandKind.ZRem: ZRem(); break;
            case CommandKind.ZScore: ZScore(many: false); break;
            case CommandKind.ZMScore: ZScore(many: true); break;
            case CommandKind.ZIncrBy: ZIncrBy(); break;
            case CommandKind.ZCard: ZCard(); break;
            case CommandKind.ZCount: ZCount(RangeKind.Score); break;
            case CommandKind.ZLexCount: ZCount(RangeKind.Lex); break;
            case CommandKind.ZRange: ZRangeGeneric(1, RangeKind.Rank, reverse: false, store: false, "zrange"); break;
            case CommandKind.ZRangeByScore: ZRangeGeneric(1, RangeKind.Score, reverse: false, store: false, "zrangebyscore"); break;
            case CommandKind.ZRevRangeByScore: ZRangeGeneric(1, RangeKind.Score, reverse: true, store: false, "zrevrangebyscore"); break;
            case CommandKind.ZRevRange: ZRangeGeneric(1, RangeKind.Rank, reverse: true, store: false, "zrevrange"); break;
            case CommandKind.ZRangeByLex: ZRangeGeneric(1, RangeKind.Lex, reverse: false, store: false, "zrangebylex"); break;
            case CommandKind.ZRevRangeByLex: ZRangeGeneric(1, RangeKind.Lex, reverse: true, store: false, "zrevrangebylex"); break;
            case CommandKind.ZRangeStore: ZRangeGeneric(2, RangeKind.Rank, reverse: false, store: true, "zrangestore"); break;
            case CommandKind.ZRank: ZRank(reverse: false); break;
            case CommandKind.ZRevRank: ZRank(reverse: true); break;
            case CommandKind.ZPopMin: ZPop(max: false); break;
            case CommandKind.ZMPop: ZMPop(); break;
            case CommandKind.ZPopMax: ZPop(max: true); break;
            case CommandKind.ZUnion: ZCombine(SetOperation.Union, store: false); break;
            case CommandKind.ZInter: ZCombine(SetOperation.Inter, store: false); break;
            case CommandKind.ZDiff: ZCombine(SetOperation.Diff, store: false); break;
            case CommandKind.ZUnionStore: ZCombine(SetOperation.Union, store: true); break;
            case CommandKind.ZInterStore: ZCombine(SetOperation.Inter, store: true); break;
            case CommandKind.ZDiffStore: ZCombine(SetOperation.Diff, store: true); break;
            case CommandKind.ZInterCard: ZInterCard(); break;
            case CommandKind.ZScan: ZScan(); break;
            case CommandKind.ZRemRangeByScore: ZRemRange(RangeKind.Score); break;
            case CommandKind.ZRemRangeByRank: ZRemRange(RangeKind.Rank); break;
            case CommandKind.ZRemRangeByLex: ZRemRange(RangeKind.Lex); break;
            case CommandKind.ZRandMember: ZRandMember(); break;
            case CommandKind.SetBit: SetBit(); break;
            case CommandKind.GetBit: GetBit(); break;
            case CommandKind.BitCount: BitCount(); break;
            case CommandKind.BitPos: BitPos(); break;
            case CommandKind.BitOp: BitOp(); break;
            case CommandKind.Lcs: Lcs(); break;
            case CommandKind.Touch: Exists(); break;
            case CommandKind.HScan: HScan(); break;
            case CommandKind.HRandField: HRandField(); break;
            case CommandKind.Ping: Ping(); break;
            case CommandKind.Echo: _w.WriteBulk(_req[1]); break;
            case CommandKind.Quit: _w.WriteRaw(Replies.Ok); CloseRequested = true; break;
            case CommandKind.Reset: Reset(); break;
            case CommandKind.Auth: Auth(); break;
            case CommandKind.Hello: Hello(); break;
            case CommandKind.Client: Client(); break;
            case CommandKind.Info: Info(); break;
            case CommandKind.Config: Config(); break;
            case CommandKind.Command: Command(); break;
            case CommandKind.Debug: Debug(); break;
            case CommandKind.Object: ObjectCommand(); break;
            case CommandKind.Time: Time(); break;
            case CommandKind.BgRewriteAof: BgRewriteAof(); break;

            // Transactions (RespSession.Transactions.cs)
            case CommandKind.Multi: Multi(); break;
            case CommandKind.Exec: Exec(); break;
            case CommandKind.Discard: Discard(); break;
            case CommandKind.Watch: Watch(); break;
            case CommandKind.Unwatch: UnwatchCommand(); break;

            // Scripting (RespSession.Scripting.cs)
            case CommandKind.Eval: Eval(bySha: false, readOnly: false); break;
            case CommandKind.EvalSha: Eval(bySha: true, readOnly: false); break;
            case CommandKind.EvalRo: Eval(bySha: false, readOnly: true); break;
            case CommandKind.EvalShaRo: Eval(bySha: true, readOnly: true); break;
            case CommandKind.Script: Script(); break;

            // Pub/sub (RespSession.PubSub.cs)
            case CommandKind.Subscribe: Subscribe(pattern: false); break;
            case CommandKind.PSubscribe: Subscribe(pattern: true); break;
            case CommandKind.Unsubscribe: Unsubscribe(pattern: false); break;
            case CommandKind.PUnsubscribe: Unsubscribe(pattern: true); break;
            case CommandKind.Publish: Publish(); break;
            case CommandKind.PubSub: PubSubCommand(); break;
            default: _w.WriteError($"ERR command '{info.Name}' is not implemented"); break;
        }
    }

    /// <summary>Evicts by policy until used memory is under maxmemory; false when that is not possible (OOM).</summary>
    private bool MakeRoom()
    {
        var options = _server.Options;
        var limit = options.MaxMemory;
        var databases = _server.Databases;
        if (databases.UsedMemory <= limit)
        {
            return true;
        }

        if (options.MaxMemoryPolicy == EvictionPolicy.NoEviction)
        {
            return false;
        }

        // Bounded, like Redis's eviction time limit: a command never waits for a whole sweep of the keyspace.
        for (var i = 0; i < 10_000 && databases.UsedMemory > limit; i++)
        {
            if (!databases.EvictOne(options.MaxMemoryPolicy))
            {
                break;
            }
        }

        return databases.UsedMemory <= limit;
    }

    private void UnknownCommand()
    {
        var name = Printable(_req.GetString(0));
        var args = new StringBuilder();
        for (var i = 1; i < _req.Count && args.Length < 128; i++)
        {
            var text = Printable(_req.GetString(i));
            args.Append('\'').Append(text.Length > 128 ? text[..128] : text).Append("' ");
        }

        _w.WriteError(CommandTable.IsKnownUnsupported(name)
            ? $"ERR unknown command '{name}', with args beginning with: {args}(Calc.Cache does not support this Redis command; see cache/README.md)"
            : $"ERR unknown command '{(name.Length > 128 ? name[..128] : name)}', with args beginning with: {args}");
    }

    private void WrongArity(string name) => _w.WriteError($"ERR wrong number of arguments for '{name}' command");

    private static string Printable(string text) => text.Replace('\r', ' ').Replace('\n', ' ');

    // --- argument helpers ---------------------------------------------------------------------------------------

    private bool Is(int index, ReadOnlySpan<byte> word) => Ascii.EqualsIgnoreCase(_req[index], word);

    /// <summary>Parses a strict Redis integer (no spaces, no '+', no leading zeros); replies with the error on failure.</summary>
    private bool TryArgInteger(int index, out long value)
    {
        if (TryParseInteger(_req[index], out value))
        {
            return true;
        }

        _w.WriteRaw(Replies.NotInteger);
        return false;
    }

    /// <summary>Redis's string2ll: the exact text of a 64-bit integer.</summary>
    internal static bool TryParseInteger(ReadOnlySpan<byte> text, out long value)
    {
        value = 0;
        if (text.Length is 0 or > 20)
        {
            return false;
        }

        if (text.Length == 1 && text[0] == (byte)'0')
        {
            return true;
        }

        var negative = text[0] == (byte)'-';
        var i = negative ? 1 : 0;
        if (i >= text.Length || text[i] < (byte)'1' || text[i] > (byte)'9')
        {
            return false;
        }

        ulong magnitude = 0;
        for (; i < text.Length; i++)
        {
            var digit = (uint)(text[i] - '0');
            if (digit > 9 || magnitude > (ulong.MaxValue - digit) / 10)
            {
                return false;
            }

            magnitude = (magnitude * 10) + digit;
        }

        if (negative)
        {
            if (magnitude > (ulong)long.MaxValue + 1)
            {
                return false;
            }

            value = (long)(0 - magnitude);
            return true;
        }

        if (magnitude > long.MaxValue)
        {
            return false;
        }

        value = (long)magnitude;
        return true;
    }

    /// <summary>A finite double written without spaces, as Redis's string2ld accepts.</summary>
    internal static bool TryParseDouble(ReadOnlySpan<byte> text, out double value)
    {
        value = 0;
        if (text.Length is 0 or > 5000 || IsSpace(text[0]) || IsSpace(text[^1]))
        {
            return false;
        }

        Span<char> chars = text.Length <= 256 ? stackalloc char[text.Length] : new char[text.Length];
        for (var i = 0; i < text.Length; i++)
        {
            chars[i] = (char)text[i];
        }

        if (chars.Equals("inf", StringComparison.OrdinalIgnoreCase) || chars.Equals("+inf", StringComparison.OrdinalIgnoreCase))
        {
            value = double.PositiveInfinity;
            return true;
        }

        if (chars.Equals("-inf", StringComparison.OrdinalIgnoreCase))
        {
            value = double.NegativeInfinity;
            return true;
        }

        return double.TryParse(chars, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && !double.IsNaN(value) && !double.IsInfinity(value);

        static bool IsSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n';
    }

    private static byte[] FormatInteger(long value) => Encoding.ASCII.GetBytes(value.ToString(CultureInfo.InvariantCulture));
}
