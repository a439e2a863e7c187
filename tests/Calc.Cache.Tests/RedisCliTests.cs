using System.Diagnostics;
using Calc.Testing;

namespace Calc.Cache.Tests;

/// <summary>
/// Debian's redis-cli against our server and against a real redis-server, same script, same expected output: the
/// replies and error texts of Redis 7 are the specification.
/// </summary>
public class RedisCliTests(CacheServerFixture server, RedisServer redis)
{
    public static TheoryData<string, string> Scripts => new()
    {
        { "strings", "SET {k} hello\nGET {k}\nAPPEND {k} _world\nSTRLEN {k}\nGETRANGE {k} 0 4\nGETRANGE {k} -5 -1\nSETRANGE {k} 6 WORLD\nGET {k}\nGETSET {k} new\nGETDEL {k}\nGET {k}" },
        { "set-options", "SET {k} a NX\nSET {k} b NX\nSET {k} c XX GET\nSET {k}:x c XX\nSET {k} d EX 100\nTTL {k}\nSET {k} e KEEPTTL\nTTL {k}\nSET {k} f PX 100000 EX 1\nSET {k} g EX 0\nSET {k} g EX abc\nSET {k} h NX XX\nSET {k} i GET" },
        { "string-option-rules", "SET {k} a EX 100 EX 200\nTTL {k}\nSET {k} b KEEPTTL KEEPTTL\nTTL {k}\nSET {k} c EX 10 KEEPTTL\nSET {k} c KEEPTTL EX 10\nSET {k} c EX abc NX XX\nSET {k} c PERSIST\nSET {k} c nx get\nGET {k}\nGETEX {k} PERSIST PERSIST\nTTL {k}\nGETEX {k} PX 100000 PX 200000\nTTL {k}\nGETEX {k} EX 10 PERSIST\nGETEX {k} PERSIST EX 10\nGETEX {k} KEEPTTL\nGETEX {k} NX\nGETEX {k} EX abc FOO\nGETEX {k} EX abc\nGETEX {k} EXAT 1 PXAT 1\nSET {k} d GET EXAT 4102444800\nEXPIRETIME {k}" },
        { "counters", "INCR {k}\nINCRBY {k} 10\nDECR {k}\nDECRBY {k} 5\nINCRBYFLOAT {k} 1.5\nINCRBYFLOAT {k} 0.1\nINCR {k}\nSET {k}:max 9223372036854775807\nINCR {k}:max\nSET {k}:s abc\nINCR {k}:s\nINCRBY {k}:n 1.5\nINCRBYFLOAT {k}:s 1" },
        { "multi", "MSET {k}:a 1 {k}:b 2\nMGET {k}:a {k}:b {k}:c\nMSETNX {k}:c 3 {k}:a 9\nMSETNX {k}:c 3 {k}:d 4\nMGET {k}:a {k}:c {k}:d\nMSET {k}:a\nEXISTS {k}:a {k}:a {k}:zz\nDEL {k}:a {k}:b {k}:zz\nUNLINK {k}:c\nSETNX {k}:d 5\nSETNX {k}:e 5" },
        { "expiry", "SET {k} v\nTTL {k}\nPTTL {k}:none\nEXPIRE {k} 100 XX\nTTL {k}\nEXPIRE {k} 50 GT\nEXPIRE {k} 200 GT\nTTL {k}\nEXPIRE {k} 10 NX\nEXPIRE {k} 10 LT\nTTL {k}\nPERSIST {k}\nPERSIST {k}\nEXPIREAT {k} 4102444800\nEXPIRETIME {k}\nPEXPIRETIME {k}\nEXPIRE {k} 10 FOO\nEXPIRE {k} 10 GT LT\nEXPIRE {k} 0\nEXISTS {k}\nSETEX {k} 100 v\nTTL {k}\nSETEX {k} -1 v\nGETEX {k} PERSIST\nTTL {k}\nGETEX {k} EX 30\nTTL {k}" },
        { "keys", "SET {k}:one 1\nSET {k}:two 2\nHSET {k}:h f v\nKEYS {k}:t*\nTYPE {k}:one\nTYPE {k}:h\nTYPE {k}:none\nRENAME {k}:one {k}:uno\nGET {k}:uno\nRENAME {k}:missing {k}:x\nRENAMENX {k}:uno {k}:two\nRENAMENX {k}:uno {k}:tres\nGET {k}:h\nSELECT 0\nSELECT x" },
        { "hashes", "HSET {k} a 1 b 2\nHSET {k} a 3 c 4\nHGET {k} a\nHMGET {k} a nope c\nHLEN {k}\nHEXISTS {k} b\nHDEL {k} a nope\nHINCRBY {k} b 10\nHINCRBY {k} nope 5\nHSETNX {k} b 0\nHSETNX {k} z 0\nHSTRLEN {k} b\nHSET {k} odd\nHINCRBYFLOAT {k} f 1.25\nHDEL {k} b c nope z f\nEXISTS {k}\nSET {k}:s x\nHSET {k}:s a 1\nHGET {k}:s a" },
        { "edge-cases", "SET {k}:a 10\nINCRBYFLOAT {k}:a 0.1\nINCRBYFLOAT {k}:b 3.0e0\nGET {k}:b\nSET {k}:c 5.0\nINCRBYFLOAT {k}:c 1\nAPPEND {k}:new abc\nSETRANGE {k}:pad 3 x\nGET {k}:pad\nSTRLEN {k}:pad\nSETRANGE {k}:pad 0 \"\"\nSETRANGE {k}:none 0 \"\"\nEXISTS {k}:none\nGETRANGE {k}:a 5 1\nGETRANGE {k}:a 0 -100\nGETRANGE {k}:a -100 100\nGETRANGE {k}:missing 0 1\nSET {k}:long aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\nHSET {k}:h a 1\nMGET {k}:h {k}:a\nGETEX {k}:a PX 100000\nTTL {k}:a\nGETEX {k}:a EX 10 PX 10\nGETEX {k}:a FOO\nSET {k}:t v PX 100000\nRENAME {k}:t {k}:t2\nTTL {k}:t2\nTTL {k}:t\nHELLO 4\nHELLO x\nECHO\nTYPE {k}:h\nDEL {k}:h\nTYPE {k}:h\nINCR {k}:a\nDECRBY {k}:x -9223372036854775808\nINCRBY {k}:x 9223372036854775807\nINCRBY {k}:x 1\nSET {k}:ws \" 1\"\nINCR {k}:ws\nSET {k}:z 007\nINCR {k}:z\nEXPIRE {k}:b 100 NX XX\nEXPIRE {k}:b abc\nEXPIRE {k}:missing 100\nPEXPIREAT {k}:b 1\nEXISTS {k}:b\nSETEX {k}:s 0 v\nPSETEX {k}:s 10000 v\nTTL {k}:s\nMSET\nMSETNX a\nHGETALL {k}:nohash\nHMGET {k}:nohash a b\nHKEYS {k}:nohash\nHINCRBYFLOAT {k}:hf f 1.5\nHINCRBYFLOAT {k}:hf f abc\nHGET {k}:hf f\nSCAN 0 COUNT 0\nSCAN abc\nSCAN 0 FOO bar\nKEYS {k}:[ab]\nRANDOMKEY x\nDBSIZE x\nCLIENT ID x\nCLIENT SETNAME\nCONFIG GET\nCONFIG SET maxclients\nCONFIG FOO\nCOMMAND FOO\nGETDEL {k}:s\nGETDEL {k}:s\nSET {k}:g old\nSET {k}:g new GET\nSET {k}:h2 x\nDEL {k}:h2\nHSET {k}:h2 a b\nSET {k}:h2 y GET\nSET {k}:h2 y NX GET\nSET {k}:h2 y XX GET\nGET {k}:h2" },
        { "limits", "SETRANGE {k} 536870912 x\nSETRANGE {k} 9223372036854775807 x\nSETRANGE {k} 9223372036854775805 xyz\nSETRANGE {k} 9223372036854775807 \"\"\nSETRANGE {k} -1 x\nEXISTS {k}\nSET {k} abc\nSETRANGE {k} 536870912 \"\"\nSETRANGE {k} 536870910 xyz\nGET {k}\nHSET {k}:h f v\nSETRANGE {k}:h 1 x\nSETRANGE {k}:h 536870912 x\nDEBUG SLEEP 0\nDEBUG POPULATE 10\nCONFIG GET MAXMEMORY\nCONFIG GET max\\Memory\nCONFIG GET [\\M]axmemory\nCONFIG GET [M]axmemory\nSCAN 0 COUNT -1" },
        { "errors", "GET\nGET a b\nFOOBAR x y\nPING a b\nECHO hi\nPING\nPING hello\nAUTH x\nCONFIG GET maxmemory-policy\nCLIENT NOSUCH\nCLIENT SETNAME has space\nCLIENT SETNAME cli\nCLIENT GETNAME" },
    };

    [Theory]
    [MemberData(nameof(Scripts))]
    public async Task Redis_cli_sees_the_same_replies_as_from_redis(string name, string script)
    {
        var prefix = Tools.UniquePrefix();
        var ours = await RunRedisCliAsync(server.Port, script.Replace("{k}", prefix, StringComparison.Ordinal));
        var theirs = await RunRedisCliAsync(redis.Port, script.Replace("{k}", prefix, StringComparison.Ordinal));

        ours.ShouldBe(theirs, $"script '{name}'");
    }

    [Fact]
    public async Task Redis_cli_in_resp3_mode_reads_maps_and_nulls()
    {
        var prefix = Tools.UniquePrefix();
        var script = $"HSET {prefix} f v\nHGETALL {prefix}\nGET {prefix}:none\nCONFIG GET maxmemory";

        var ours = await RunRedisCliAsync(server.Port, script, "-3");
        var theirs = await RunRedisCliAsync(redis.Port, script, "-3");

        ours.ShouldBe(theirs);
    }

    [Fact]
    public async Task Redis_cli_info_and_dbsize_work()
    {
        var output = await RunRedisCliAsync(server.Port, "INFO\nDBSIZE\nCOMMAND COUNT\nCLIENT INFO");

        output.ShouldContain("redis_version:");
        output.ShouldContain("used_memory:");
        output.ShouldContain("connected_clients:");
    }

    internal static async Task<string> RunRedisCliAsync(int port, string script, params string[] extra)
    {
        var path = Tools.Find("redis-cli")
            ?? throw new InvalidOperationException("redis-cli was not found: install the Debian package 'redis-tools'.");
        var start = new ProcessStartInfo(path)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "-h", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture) }.Concat(extra))
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        await process.StandardInput.WriteAsync(script + "\n");
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        await process.WaitForExitAsync(timeout.Token);
        return await output + await error;
    }
}
