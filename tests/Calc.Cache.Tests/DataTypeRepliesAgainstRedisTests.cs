using Calc.Testing;

namespace Calc.Cache.Tests;

/// <summary>
/// Raw RESP: the same commands on lists, sets, sorted sets and bitmaps sent to our server and to a real
/// redis-server must get byte-identical replies, error texts included ({k} is a prefix only this test uses). RESP3
/// is checked as well (sets as '~', doubles as ',', score pairs as nested arrays).
/// </summary>
public class DataTypeRepliesAgainstRedisTests(CacheServerFixture server, RedisServer redis)
{
    public static TheoryData<string, string> Scripts => new()
    {
        {
            "list-errors",
            "RPUSH {k}:l a b c\nLPOP {k}:l -1\nLPOP {k}:none 0\nLPOP {k}:none 2\nLPOP {k}:l 0\nRPOP {k}:l 1 2\nLSET {k}:l 9 x\nLSET {k}:none 0 x\n" +
            "LINSERT {k}:l middle a x\nLPOS {k}:l a RANK 0\nLPOS {k}:l a COUNT -1\nLPOS {k}:l a MAXLEN -1\nLPOS {k}:l a FOO 1\nLPOS {k}:l z\nLPOS {k}:l b COUNT 0 RANK -1\n" +
            "LMOVE {k}:l {k}:m UP LEFT\nBLPOP {k}:l -1\nBLPOP {k}:l abc\nBLPOP {k}:none 0.01\nBLMOVE {k}:none {k}:m LEFT LEFT 0.01\nLRANGE {k}:l x 1\nLINDEX {k}:l x\n" +
            "LTRIM {k}:l 5 10\nEXISTS {k}:l\nLPUSHX {k}:l a\nLPUSH {k}:l\nOBJECT ENCODING {k}:none"
        },
        {
            "set-errors",
            "SADD {k}:s 1 2 3\nOBJECT ENCODING {k}:s\nSADD {k}:s x\nOBJECT ENCODING {k}:s\nSPOP {k}:s -1\nSPOP {k}:none\nSPOP {k}:none 3\nSPOP {k}:s 1 2\n" +
            "SRANDMEMBER {k}:none\nSRANDMEMBER {k}:none 5\nSRANDMEMBER {k}:s -9223372036854775808\nSRANDMEMBER {k}:s 0\nSINTERCARD 0 {k}:s\nSINTERCARD 3 {k}:s\n" +
            "SINTERCARD 1 {k}:s LIMIT -1\nSINTERCARD 1 {k}:s FOO\nSINTERCARD 1 {k}:s LIMIT 2\nSMISMEMBER {k}:s 1 nope\nSINTER {k}:s {k}:none\nSDIFFSTORE {k}:d {k}:s {k}:s\n" +
            "EXISTS {k}:d\nSSCAN {k}:s abc\nSSCAN {k}:s 0 COUNT 0\nSSCAN {k}:s 0 MATCH x\nSMOVE {k}:s {k}:t nope\nSCARD {k}:none"
        },
        {
            "zset-errors",
            "ZADD {k}:z 1 a 2 b 3 c\nZADD {k}:z NX XX 1 a\nZADD {k}:z GT LT 1 a\nZADD {k}:z NX GT 1 a\nZADD {k}:z INCR 1 a 2 b\nZADD {k}:z 1 a 2\nZADD {k}:z x a\n" +
            "ZADD {k}:z nan a\nZADD {k}:z INCR 1 a\nZADD {k}:z XX INCR 1 nope\nZADD {k}:z CH GT 5 a 0 b 9 d\nZADD {k}:z GT 1 a\nZINCRBY {k}:z x a\nZINCRBY {k}:z 0.1 b\n" +
            "ZCOUNT {k}:z a b\nZCOUNT {k}:z (1 +inf\nZRANGE {k}:z 0 1 LIMIT 0 1\nZRANGE {k}:z a b BYLEX WITHSCORES\nZRANGEBYLEX {k}:z a b\nZRANGE {k}:z 0 -1 WITHSCORES\n" +
            "ZRANGE {k}:z +inf -inf BYSCORE REV LIMIT 1 2 WITHSCORES\nZRANGEBYSCORE {k}:z (1 5 WITHSCORES LIMIT 0 2\nZREVRANGEBYSCORE {k}:z 5 (1\nZREVRANGE {k}:z 0 1 WITHSCORES\n" +
            "ZRANGESTORE {k}:d {k}:z 0 -1 WITHSCORES\nZRANK {k}:z nope\nZREVRANK {k}:z d\nZPOPMIN {k}:none\nZPOPMIN {k}:z -1\nZPOPMAX {k}:z\nZPOPMIN {k}:z 2\nZUNION 0 {k}:z\n" +
            "ZUNION 3 {k}:z\nZINTERSTORE {k}:i 2 {k}:z {k}:z WEIGHTS 1\nZINTERSTORE {k}:i 2 {k}:z {k}:z WEIGHTS 1 x\nZUNION 1 {k}:z AGGREGATE FOO\nZDIFF 1 {k}:z WEIGHTS 1\n" +
            "ZINTERCARD 0 {k}:z\nZADD {k}:inf +inf a -inf b 1.5 c 0.1 d 1e20 e -0 f\nZRANGE {k}:inf 0 -1 WITHSCORES\nZSCORE {k}:inf d\nZMSCORE {k}:inf a nope\n" +
            "ZUNIONSTORE {k}:u 2 {k}:inf {k}:inf WEIGHTS 1 -1\nZRANGE {k}:u 0 -1 WITHSCORES\nZADD {k}:lex 0 a 0 b 0 c 0 d\nZRANGEBYLEX {k}:lex [b (d\nZREVRANGEBYLEX {k}:lex + [b LIMIT 1 1\n" +
            "ZLEXCOUNT {k}:lex - +\nZREMRANGEBYLEX {k}:lex [a [b\nZREMRANGEBYRANK {k}:lex 0 0\nZREMRANGEBYSCORE {k}:inf -inf (1\nZRANGE {k}:inf 0 -1\nOBJECT ENCODING {k}:inf\nZSCAN {k}:lex 0"
        },
        {
            "bitmaps-lcs",
            "SETBIT {k}:b 7 1\nSETBIT {k}:b 4294967296 1\nSETBIT {k}:b 1 2\nSETBIT {k}:b 100 1\nGET {k}:b\nGETBIT {k}:b 100\nBITCOUNT {k}:b\nBITCOUNT {k}:b 0\nBITCOUNT {k}:b 0 -1 BIT\n" +
            "BITCOUNT {k}:b 1 2\nBITCOUNT {k}:b -2 -1 BYTE\nBITCOUNT {k}:b 0 -1 FOO\nBITPOS {k}:b 2\nBITPOS {k}:b 0\nBITPOS {k}:b 1 1\nBITPOS {k}:b 1 8 100 BIT\nBITPOS {k}:none 0\n" +
            "BITPOS {k}:none 1\nSET {k}:s1 ohmytext\nSET {k}:s2 mynewtext\nBITOP NOT {k}:d {k}:b {k}:s1\nBITOP FOO {k}:d {k}:b\nBITOP AND {k}:d {k}:b {k}:s1\nGET {k}:d\nBITOP OR {k}:d {k}:none\n" +
            "EXISTS {k}:d\nLCS {k}:s1 {k}:s2\nLCS {k}:s1 {k}:s2 LEN\nLCS {k}:s1 {k}:s2 IDX\nLCS {k}:s1 {k}:s2 IDX MINMATCHLEN 4 WITHMATCHLEN\nLCS {k}:s1 {k}:s2 IDX LEN\nLCS {k}:s1 {k}:s2 FOO\n" +
            "HSET {k}:h a b\nLCS {k}:h {k}:s1\nBITCOUNT {k}:h\nSETBIT {k}:h 0 1\nTOUCH {k}:s1 {k}:s2 {k}:none\nHSCAN {k}:h 0\nHSCAN {k}:h x\nHRANDFIELD {k}:none\nHRANDFIELD {k}:h 1 FOO\nOBJECT ENCODING {k}:h"
        },
        {
            "mpop",
            "RPUSH {k}:m a b c d e\nLMPOP 2 {k}:l {k}:m LEFT\nLMPOP 2 {k}:l {k}:m RIGHT COUNT 2\nLMPOP 1 {k}:m LEFT COUNT 10\nEXISTS {k}:m\nLMPOP 1 {k}:m LEFT\n" +
            "LMPOP 0 {k}:m LEFT\nLMPOP x {k}:m LEFT\nLMPOP -1 {k}:m LEFT\nLMPOP 3 {k}:m LEFT\nLMPOP 1 {k}:m UP\nLMPOP 1 {k}:m LEFT COUNT 0\nLMPOP 1 {k}:m LEFT COUNT x\n" +
            "LMPOP 1 {k}:m LEFT COUNT 1 COUNT 2\nLMPOP 1 {k}:m LEFT FOO\nLMPOP 1 {k}:m LEFT COUNT\nLMPOP 9223372036854775807 {k}:m LEFT\nSET {k}:str v\nLMPOP 2 {k}:str {k}:m LEFT\n" +
            "RPUSH {k}:l x\nLMPOP 2 {k}:l {k}:str LEFT\nRPUSH {k}:l p q r\nBLMPOP 0 2 {k}:none {k}:l RIGHT COUNT 2\nBLMPOP 0.01 1 {k}:none LEFT\n" +
            "BLMPOP -1 1 {k}:l LEFT\nBLMPOP x 1 {k}:l LEFT\nBLMPOP 0 0 {k}:l LEFT\nBLMPOP 0 1 {k}:l UP\nBLMPOP 0 2 {k}:str {k}:l LEFT\nBLMPOP 0 1 {k}:l LEFT COUNT 0\n" +
            "ZADD {k}:z 1 a 2 b 3 c 4 d\nZMPOP 2 {k}:none {k}:z MIN\nZMPOP 1 {k}:z MAX COUNT 2\nZMPOP 1 {k}:z min COUNT 5\nEXISTS {k}:z\nZMPOP 1 {k}:z MIN\n" +
            "ZMPOP 0 {k}:z MIN\nZMPOP 2 {k}:z MIN\nZMPOP 1 {k}:z LEFT\nZMPOP 1 {k}:z MIN COUNT -1\nZMPOP 1 {k}:z MAX COUNT 1 FOO\nZMPOP 2 {k}:str {k}:z MIN\n" +
            "ZADD {k}:inf -inf a 1.5 b +inf c\nZMPOP 1 {k}:inf MIN COUNT 3"
        },
        {
            "wrong-types",
            "SET {k}:str v\nRPUSH {k}:list v\nSADD {k}:set v\nZADD {k}:zset 1 v\nHSET {k}:hash f v\nLPUSH {k}:str x\nLRANGE {k}:set 0 1\nBLPOP {k}:str 1\nSADD {k}:list x\nSMEMBERS {k}:zset\n" +
            "SINTER {k}:set {k}:list\nZADD {k}:set 1 x\nZRANGE {k}:list 0 1\nZUNIONSTORE {k}:d 2 {k}:zset {k}:list\nZUNIONSTORE {k}:d 2 {k}:zset {k}:set\nZRANGE {k}:d 0 -1 WITHSCORES\n" +
            "GET {k}:list\nINCR {k}:set\nAPPEND {k}:zset x\nHGET {k}:list f\nHSET {k}:zset f v\nSETBIT {k}:list 1 1\nGETBIT {k}:set 1\nLMOVE {k}:list {k}:str LEFT LEFT\nLMOVE {k}:none {k}:str LEFT LEFT\n" +
            "SMOVE {k}:set {k}:list v\nTYPE {k}:list\nTYPE {k}:set\nTYPE {k}:zset\nOBJECT ENCODING {k}:list\nSET {k}:list x\nTYPE {k}:list\nRENAME {k}:set {k}:set2\nTYPE {k}:set2\nSISMEMBER {k}:set2 v"
        },
    };

    [Theory]
    [MemberData(nameof(Scripts))]
    public async Task Raw_replies_are_byte_identical_to_redis(string name, string script)
    {
        var prefix = Tools.UniquePrefix();
        var commands = script.Replace("{k}", prefix, StringComparison.Ordinal).Split('\n');

        foreach (var protocol in new[] { 2, 3 })
        {
            var ours = await RunAsync(server.Port, commands, protocol);
            var theirs = await RunAsync(redis.Port, commands, protocol);
            ours.ShouldBe(theirs, $"script '{name}' over RESP{protocol}");
            if (protocol == 2)
            {
                // The second run goes over the keys the first left behind: start both from the same state again.
                await RunAsync(server.Port, [$"DEL {string.Join(' ', Keys(prefix))}"], 2);
                await RunAsync(redis.Port, [$"DEL {string.Join(' ', Keys(prefix))}"], 2);
            }
        }
    }

    private static IEnumerable<string> Keys(string prefix) =>
        new[] { "l", "m", "s", "t", "d", "z", "i", "inf", "u", "lex", "b", "s1", "s2", "h", "str", "list", "set", "set2", "zset", "hash" }
            .Select(k => $"{prefix}:{k}");

    private static async Task<string> RunAsync(int port, IEnumerable<string> commands, int protocol)
    {
        await using var connection = await RawConnection.OpenAsync(port);
        var transcript = new System.Text.StringBuilder();
        if (protocol == 3)
        {
            await connection.SendAsync(BlockingPopTests.Resp("HELLO", "3"));
            await ReadReplyAsync(connection); // server details differ; not compared
        }

        foreach (var command in commands)
        {
            await connection.SendAsync(BlockingPopTests.Resp(command.Split(' ')));
            transcript.Append(command).Append(" => ").Append(await ReadReplyAsync(connection)).Append('\n');
        }

        return transcript.ToString();
    }

    /// <summary>Reads one whole RESP2/RESP3 reply as text.</summary>
    private static async Task<string> ReadReplyAsync(RawConnection connection)
    {
        var line = await connection.ReadUntilAsync("\r\n");
        line.ShouldNotBeEmpty("the server closed the connection or did not answer");
        var count = line.Length > 3 && line[0] is '$' or '*' or '~' or '%' ? int.Parse(line[1..^2], System.Globalization.CultureInfo.InvariantCulture) : 0;
        switch (line[0])
        {
            case '$' when count >= 0:
                return line + await connection.ReadAsync(count + 2);
            case '*' or '~' or '%' when count > 0:
                var text = new System.Text.StringBuilder(line);
                for (var i = 0; i < (line[0] == '%' ? count * 2 : count); i++)
                {
                    text.Append(await ReadReplyAsync(connection));
                }

                return text.ToString();
            default:
                return line;
        }
    }
}
