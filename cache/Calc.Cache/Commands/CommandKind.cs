namespace Calc.Cache.Commands;

/// <summary>Every command the server implements; <see cref="RespSession"/> dispatches on it with one switch.</summary>
internal enum CommandKind
{
    // Strings
    Get, Set, SetNx, SetEx, PSetEx, MGet, MSet, MSetNx, Incr, Decr, IncrBy, DecrBy, IncrByFloat, Append, StrLen,
    GetDel, GetEx, GetSet, GetRange, SetRange,

    // Keys
    Del, Unlink, Exists, Keys, Scan, RandomKey, Rename, RenameNx, Type, DbSize, FlushDb, FlushAll, Select, SwapDb, Move, Copy, Dump, Restore,

    // Expiry
    Expire, PExpire, ExpireAt, PExpireAt, Ttl, PTtl, ExpireTime, PExpireTime, Persist,

    // Hashes
    HSet, HSetNx, HMSet, HGet, HMGet, HGetAll, HDel, HExists, HLen, HIncrBy, HIncrByFloat, HKeys, HVals, HStrLen,

    // Lists, sets, sorted sets, bitmaps and the key/hash commands added with them (RespSession.Lists/Blocking/Sets/SortedSets/Bitmaps.cs)
    LPush, RPush, LPushX, RPushX, LPop, RPop, LRange, LLen, LIndex, LSet, LRem, LTrim, LInsert, LPos, LMove, RPopLPush, LMPop,
    BLPop, BRPop, BLMove, BRPopLPush, BLMPop,
    SAdd, SRem, SMembers, SIsMember, SMIsMember, SCard, SPop, SRandMember, SInter, SInterStore, SUnion, SUnionStore,
    SDiff, SDiffStore, SInterCard, SMove, SScan,
    ZAdd, ZRem, ZScore, ZMScore, ZIncrBy, ZCard, ZCount, ZLexCount, ZRange, ZRangeByScore, ZRevRangeByScore, ZRevRange,
    ZRangeByLex, ZRevRangeByLex, ZRank, ZRevRank, ZPopMin, ZPopMax, ZMPop, ZRangeStore, ZUnion, ZInter, ZDiff, ZUnionStore,
    ZInterStore, ZDiffStore, ZInterCard, ZScan, ZRemRangeByScore, ZRemRangeByRank, ZRemRangeByLex, ZRandMember,
    SetBit, GetBit, BitCount, BitPos, BitOp, Lcs, Touch, HScan, HRandField,

    // Connection
    Ping, Echo, Quit, Reset, Auth, Hello, Client,

    // Server
    Info, Config, Command, Debug, Object, Time, BgRewriteAof,

    // Transactions
    Multi, Exec, Discard, Watch, Unwatch,

    // Scripting
    Eval, EvalSha, EvalRo, EvalShaRo, Script,

    // Pub/sub
    Subscribe, Unsubscribe, PSubscribe, PUnsubscribe, Publish, PubSub,
}
