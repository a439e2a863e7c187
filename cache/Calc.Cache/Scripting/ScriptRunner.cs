using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Calc.Cache.Protocol;
using KeraLua;

namespace Calc.Cache.Scripting;

/// <summary>
/// EVAL's Lua (5.4, from KeraLua): one interpreter for the server, as Redis has, used only inside the gate's exclusive
/// section (so by one thread at a time). Scripts are cached by SHA-1 as compiled functions.
/// <para>
/// Two rules keep managed frames safe from Lua's longjmp-based errors: no function called from Lua raises a Lua
/// error (redis.call's C part returns (ok, value) and a Lua wrapper raises), and a script runs as a coroutine, so the
/// instruction-count hook stops a killed script by yielding (lua_yield from a hook returns normally; Lua unwinds only
/// its own C frames after the hook is back).
/// </para>
/// </summary>
internal sealed class ScriptRunner : IDisposable
{
    /// <summary>Instructions between two hook calls: about a millisecond of a busy loop.</summary>
    private const int HookEvery = 100_000;

    // The Lua side of the redis library; C functions it wraps are taken as upvalues and removed from the globals.
    // Globals are read-only to scripts, as Redis 7 makes them: a script runs with a proxy _ENV.
    private const string Prelude = """
        local rawcall, sha1hex = __calc_call, __calc_sha1hex
        __calc_call, __calc_sha1hex = nil, nil
        redis = {}
        function redis.call(...)
          local ok, result = rawcall(false, ...)
          if not ok then error(result) end
          return result
        end
        function redis.pcall(...)
          local ok, result = rawcall(true, ...)
          return result
        end
        local function single(field, ...)
          local text = ...
          if select('#', ...) ~= 1 or type(text) ~= 'string' then
            error({err = 'ERR wrong number or type of arguments'})
          end
          return {[field] = text}
        end
        function redis.error_reply(...) return single('err', ...) end
        function redis.status_reply(...) return single('ok', ...) end
        redis.sha1hex = sha1hex
        redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING = 0, 1, 2, 3
        function redis.log() end
        redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL = 0, 1, 2, 2, 3
        function redis.set_repl() end
        function redis.replicate_commands() return true end
        function redis.setresp(v)
          if v ~= 2 then error({err = 'ERR RESP version must be 2 (Calc.Cache scripts speak RESP2 only)'}) end
        end
        -- Lua 5.1 names that 5.4 moved: scripts written for Redis use them.
        unpack = table.unpack
        KEYS, ARGV = {}, {}
        local real = _G
        __calc_env = setmetatable({}, {
          __index = function(_, name)
            local value = real[name]
            if value == nil then
              error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 2)
            end
            return value
          end,
          __newindex = function() error('Attempt to modify a readonly table', 2) end,
          __metatable = false,
        })
        real._G = __calc_env
        """;

    private readonly LuaMemoryBudget _memory = new();
    private readonly Lua _lua;
    private readonly LuaFunction _call;
    private readonly LuaFunction _sha1;
    private readonly LuaHookFunction _hook;
    private readonly Dictionary<string, int> _scripts = new(StringComparer.Ordinal);
    private readonly Func<ScriptCall, ScriptCallResult> _execute;
    private readonly ArrayBufferWriter<byte> _reply;
    private readonly byte[][] _noArgs = [];
    private long _startTicks;
    private volatile bool _running;
    private volatile bool _wrote;
    private volatile bool _killRequested;
    private volatile bool _timedOut;
    private bool _readOnly;
    private int _envRef;

    /// <param name="reply">Where <paramref name="execute"/> writes each command's RESP2 reply.</param>
    /// <param name="execute">Runs one command of redis.call.</param>
    public ScriptRunner(ArrayBufferWriter<byte> reply, Func<ScriptCall, ScriptCallResult> execute)
    {
        _reply = reply;
        _execute = execute;
        _lua = new Lua(_memory.Allocator, _memory.UserData);
        _lua.OpenBasicLibrary();
        _lua.OpenTableLibrary();
        _lua.OpenStringLibrary();
        _lua.OpenMathLibrary();
        _lua.OpenUTF8Library();
        _lua.OpenCoroutineLibrary();
        foreach (var name in new[] { "dofile", "loadfile", "load", "loadstring", "require", "print" })
        {
            _lua.PushNil();
            _lua.SetGlobal(name);
        }

        _call = Call;
        _sha1 = Sha1Hex;
        _hook = Hook;
        _lua.Register("__calc_call", _call);
        _lua.Register("__calc_sha1hex", _sha1);
        if (_lua.DoString(Prelude))
        {
            throw new InvalidOperationException("the script prelude failed: " + _lua.ToString(-1));
        }

        _lua.GetGlobal("__calc_env");
        _envRef = _lua.Ref(LuaRegistry.Index);
        _lua.PushNil();
        _lua.SetGlobal("__calc_env");
        _lua.SetHook(_hook, LuaHookMask.Count, HookEvery);
    }

    /// <summary>Milliseconds after which other clients get -BUSY (busy-reply-threshold).</summary>
    public long BusyThresholdMs { get; set; } = 5000;

    /// <summary>Milliseconds after which a script is stopped whatever it did (script-max-time; 0 = never).</summary>
    public long MaxTimeMs { get; set; }

    /// <summary>
    /// Bytes the interpreter may hold while a script runs or compiles (lua-max-memory; 0 = no limit): past it the
    /// allocation fails and the script ends with an out-of-memory error.
    /// </summary>
    public long MaxMemory
    {
        get => _memory.Limit;
        set => _memory.Limit = value;
    }

    /// <summary>Bytes the interpreter holds now (INFO's used_memory_lua).</summary>
    public long UsedMemory => _memory.Used;

    /// <summary>Called from the hook once a running script has passed <see cref="BusyThresholdMs"/>.</summary>
    public Action? OnBusy { get; set; }

    /// <summary>Any thread: whether a script is running.</summary>
    public bool Running => _running;

    public static string Sha1Of(ReadOnlySpan<byte> body)
    {
#pragma warning disable CA5350 // SHA-1 is how Redis names cached scripts, not a security measure.
        return Convert.ToHexStringLower(SHA1.HashData(body));
#pragma warning restore CA5350
    }

    /// <summary>Compiles and caches a script; null on success, else the compile error (Redis's text).</summary>
    public string? Load(byte[] body, out string sha)
    {
        sha = Sha1Of(body);
        if (_scripts.ContainsKey(sha))
        {
            return null;
        }

        _memory.ResetRefused();
        _memory.Enforced = true;
        LuaStatus status;
        try
        {
            status = _lua.LoadBuffer(body, "@user_script");
        }
        finally
        {
            _memory.Enforced = false;
        }

        if (status != LuaStatus.OK)
        {
            var message = _memory.Refused ? OutOfMemory : "ERR Error compiling script (new function): " + (_lua.ToString(-1, false) ?? "");
            _lua.Pop(1);
            ReturnMemoryAfterRefusal();
            return message;
        }

        // _ENV (the chunk's first upvalue) is the read-only proxy of the globals.
        _lua.RawGetInteger(LuaRegistry.Index, _envRef);
        _lua.SetUpValue(-2, 1);
        _scripts[sha] = _lua.Ref(LuaRegistry.Index);
        return null;
    }

    public bool Exists(string sha) => _scripts.ContainsKey(sha.ToLowerInvariant());

    public void Flush()
    {
        foreach (var reference in _scripts.Values)
        {
            _lua.Unref(LuaRegistry.Index, reference);
        }

        _scripts.Clear();
        _lua.GarbageCollector(LuaGC.Collect, 0);
    }

    /// <summary>
    /// Any thread (SCRIPT KILL): asks the running script to stop. Redis's answers: NOTBUSY when none runs,
    /// UNKILLABLE once it has written.
    /// </summary>
    public KillResult Kill()
    {
        if (!_running)
        {
            return KillResult.NotBusy;
        }

        if (_wrote)
        {
            return KillResult.Unkillable;
        }

        _killRequested = true;
        return KillResult.Killed;
    }

    /// <summary>Runs a cached script and writes its result (or error) with <paramref name="output"/>.</summary>
    public void Run(string sha, byte[][] keys, byte[][] args, bool readOnly, RespWriter output)
    {
        var reference = _scripts[sha];
        _readOnly = readOnly;
        SetArray("KEYS", keys);
        SetArray("ARGV", args);
        var thread = _lua.NewThread(); // on the main stack until the end, so the collector keeps it
        _lua.RawGetInteger(LuaRegistry.Index, reference);
        _lua.XMove(thread, 1);
        _wrote = _killRequested = _timedOut = false;
        _startTicks = Stopwatch.GetTimestamp();
        _running = true;
        _memory.ResetRefused();
        _memory.Enforced = true;
        LuaStatus status;
        try
        {
            status = thread.Resume(null, 0, out _);
        }
        finally
        {
            _memory.Enforced = false;
            _running = false;
        }

        if (status is not (LuaStatus.OK or LuaStatus.Yield) && _memory.Refused)
        {
            // Lua's own errors (LUA_ERRMEM) and lauxlib's buffers ("not enough memory", a runtime error) both end here.
            output.WriteError(OutOfMemory + Where(thread, sha));
        }
        else if (status == LuaStatus.OK)
        {
            if (thread.GetTop() == 0)
            {
                output.WriteNull();
            }
            else
            {
                WriteValue(thread, 1, output, depth: 0);
            }
        }
        else if (status == LuaStatus.Yield && !_killRequested && !_timedOut)
        {
            output.WriteError("ERR attempt to yield from outside a coroutine" + Where(thread, sha));
        }
        else if (status == LuaStatus.Yield)
        {
            // Only the hook yields (coroutine.yield at the top level of a script is refused by Lua itself there).
            output.WriteError((_timedOut ? "ERR Script exceeded script-max-time and was stopped" : "ERR Script killed by user with SCRIPT KILL...")
                + Where(thread, sha));
        }
        else
        {
            output.WriteError(ErrorText(thread) + Where(thread, sha));
        }

        thread.SetTop(0);
        _lua.Pop(1);
        SetArray("KEYS", _noArgs);
        SetArray("ARGV", _noArgs);
        ReturnMemoryAfterRefusal();
    }

    public void Dispose()
    {
        _lua.Dispose();
        _memory.Dispose();
    }

    private string OutOfMemory => string.Create(CultureInfo.InvariantCulture, $"ERR Lua out of memory: the script needed more than lua-max-memory ({_memory.Limit} bytes)");

    /// <summary>After a refused allocation, what the stopped script held is garbage: collect it now, not at the next script.</summary>
    private void ReturnMemoryAfterRefusal()
    {
        if (_memory.Refused)
        {
            _lua.GarbageCollector(LuaGC.Collect, 0);
            _memory.ResetRefused();
        }
    }

    private void SetArray(string name, byte[][] values)
    {
        _lua.CreateTable(values.Length, 0);
        for (var i = 0; i < values.Length; i++)
        {
            _lua.PushBuffer(values[i]);
            _lua.RawSetInteger(-2, i + 1);
        }

        _lua.SetGlobal(name);
    }

    /// <summary>The error a failed script left: a redis.call error table's text as is, a Lua error with ERR.</summary>
    private static string ErrorText(Lua thread)
    {
        if (thread.Type(-1) == LuaType.Table)
        {
            thread.GetField(-1, "err");
            var text = thread.Type(-1) == LuaType.String ? thread.ToString(-1, false) : null;
            thread.Pop(1);
            if (text is not null)
            {
                return text.StartsWith('-') ? text[1..] : text;
            }
        }

        return "ERR " + (thread.ToString(-1, false) ?? "unknown error");
    }

    /// <summary>Redis 7's suffix of script errors: <c> script: sha, on @user_script:line.</c></summary>
    private static string Where(Lua thread, string sha)
    {
        var line = 0;
        var debug = new LuaDebug();
        for (var level = 0; thread.GetStack(level, ref debug) == 1; level++)
        {
            thread.GetInfo("Sl", ref debug);
            if (debug.Source == "@user_script")
            {
                line = debug.CurrentLine;
                break;
            }
        }

        return string.Create(CultureInfo.InvariantCulture, $" script: {sha}, on @user_script:{line}.");
    }

    private void Hook(IntPtr state, IntPtr debug)
    {
        if (!_running)
        {
            return;
        }

        var elapsedMs = Stopwatch.GetElapsedTime(_startTicks).TotalMilliseconds;
        if (elapsedMs > BusyThresholdMs)
        {
            OnBusy?.Invoke();
        }

        if (MaxTimeMs > 0 && elapsedMs > MaxTimeMs)
        {
            _timedOut = true;
        }

        if (_killRequested || _timedOut)
        {
            var lua = Lua.FromIntPtr(state);
            // Only where a yield cannot fail: a yield across a C call (a gsub callback) would raise a Lua error
            // through this managed frame. The next hook call tries again.
            if (lua.IsYieldable)
            {
                lua.Yield(0);
            }
        }
    }

    /// <summary>Lua calls these two C functions while the budget is enforced; their own pushes must not fail (see <see cref="LuaMemoryBudget"/>).</summary>
    private int Sha1Hex(IntPtr state)
    {
        _memory.Enforced = false;
        try
        {
            return Sha1HexUnbounded(state);
        }
        finally
        {
            _memory.Enforced = true;
        }
    }

    private int Call(IntPtr state)
    {
        _memory.Enforced = false;
        try
        {
            return CallUnbounded(state);
        }
        finally
        {
            _memory.Enforced = true;
        }
    }

    private static int Sha1HexUnbounded(IntPtr state)
    {
        var lua = Lua.FromIntPtr(state);
        var text = lua.GetTop() >= 1 && lua.Type(1) is LuaType.String or LuaType.Number ? lua.ToBuffer(1, false) : [];
        lua.PushString(Sha1Of(text));
        return 1;
    }

    /// <summary>redis.call/pcall's C part: (protect, command, args...) → ok, reply. Never raises a Lua error.</summary>
    private int CallUnbounded(IntPtr state)
    {
        var lua = Lua.FromIntPtr(state);
        var protect = lua.ToBoolean(1);
        var count = lua.GetTop() - 1;
        if (count < 1)
        {
            return Fail(lua, protect, "ERR Please specify at least one argument for this redis lib call");
        }

        var args = new byte[count][];
        for (var i = 0; i < count; i++)
        {
            var index = i + 2;
            switch (lua.Type(index))
            {
                case LuaType.String:
                    args[i] = lua.ToBuffer(index, false);
                    break;
                case LuaType.Number:
                    args[i] = Encoding.ASCII.GetBytes(NumberText(lua, index));
                    break;
                default:
                    return Fail(lua, protect, "ERR Lua redis lib command arguments must be strings or integers");
            }
        }

        _reply.ResetWrittenCount();
        ScriptCallResult result;
        try
        {
            result = _execute(new ScriptCall(args, _readOnly));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Nothing may unwind through Lua's C frames: the failure becomes the call's error.
            return Fail(lua, protect, "ERR " + ex.Message);
        }

        if (result.Error is not null)
        {
            return Fail(lua, protect, result.Error);
        }

        if (result.Wrote)
        {
            _wrote = true;
        }

        var reply = _reply.WrittenSpan;
        if (!lua.CheckStack(8))
        {
            return Fail(lua, protect, "ERR reply too deep for the script's stack");
        }

        var position = 0;
        var isError = reply.Length > 0 && reply[0] == (byte)'-';
        PushReply(lua, reply, ref position, depth: 0);
        if (isError && !protect)
        {
            lua.PushBoolean(false);
            lua.Insert(-2);
            return 2;
        }

        lua.PushBoolean(true);
        lua.Insert(-2);
        return 2;
    }

    private static int Fail(Lua lua, bool protect, string message)
    {
        lua.PushBoolean(protect);
        lua.CreateTable(0, 1);
        lua.PushString(message);
        lua.SetField(-2, "err");
        return 2;
    }

    /// <summary>A number argument as Lua 5.1 (Redis) prints it: integers plainly, others as %.14g.</summary>
    private static string NumberText(Lua lua, int index)
    {
        if (lua.IsInteger(index))
        {
            return lua.ToInteger(index).ToString(CultureInfo.InvariantCulture);
        }

        var value = lua.ToNumber(index);
        if (Math.Floor(value) == value && Math.Abs(value) < 1e15)
        {
            return ((long)value).ToString(CultureInfo.InvariantCulture);
        }

        return value.ToString("G14", CultureInfo.InvariantCulture).Replace("E+", "e+", StringComparison.Ordinal).Replace("E-", "e-", StringComparison.Ordinal);
    }

    /// <summary>Redis → Lua: integer → number, bulk → string, null → false, array → table, status/error → {ok=}/{err=}.</summary>
    private static void PushReply(Lua lua, ReadOnlySpan<byte> reply, ref int position, int depth)
    {
        var type = reply[position];
        var lineEnd = reply[position..].IndexOf("\r\n"u8) + position;
        var line = reply[(position + 1)..lineEnd];
        position = lineEnd + 2;
        switch (type)
        {
            case (byte)':':
                lua.PushInteger(long.Parse(line, CultureInfo.InvariantCulture));
                break;
            case (byte)'+':
                lua.CreateTable(0, 1);
                lua.PushBuffer(line.ToArray());
                lua.SetField(-2, "ok");
                break;
            case (byte)'-':
                lua.CreateTable(0, 1);
                lua.PushBuffer(line.ToArray());
                lua.SetField(-2, "err");
                break;
            case (byte)'$':
                var length = int.Parse(line, CultureInfo.InvariantCulture);
                if (length < 0)
                {
                    lua.PushBoolean(false);
                    break;
                }

                lua.PushBuffer(reply.Slice(position, length).ToArray());
                position += length + 2;
                break;
            case (byte)'*':
                var count = int.Parse(line, CultureInfo.InvariantCulture);
                if (count < 0)
                {
                    lua.PushBoolean(false);
                    break;
                }

                lua.CreateTable(count, 0);
                if (depth > 100 || !lua.CheckStack(4))
                {
                    // Deeper than any command replies; skipping keeps the parse in step.
                    for (var i = 0; i < count; i++)
                    {
                        PushReply(lua, reply, ref position, depth + 1);
                        lua.Pop(1);
                    }

                    break;
                }

                for (var i = 0; i < count; i++)
                {
                    PushReply(lua, reply, ref position, depth + 1);
                    lua.RawSetInteger(-2, i + 1);
                }

                break;
            default:
                lua.PushBoolean(false);
                break;
        }
    }

    /// <summary>
    /// Lua → Redis, as Redis 7 (RESP2 rules): number → integer (truncated), string → bulk, true → 1, false/nil → null,
    /// {err=} → error, {ok=} → status, other tables → arrays up to the first nil.
    /// </summary>
    private static void WriteValue(Lua lua, int index, RespWriter output, int depth)
    {
        index = lua.AbsIndex(index);
        switch (lua.Type(index))
        {
            case LuaType.String:
                output.WriteBulk(lua.ToBuffer(index, false));
                break;
            case LuaType.Number:
                output.WriteInteger(lua.IsInteger(index) ? lua.ToInteger(index) : Truncate(lua.ToNumber(index)));
                break;
            case LuaType.Boolean:
                if (lua.ToBoolean(index))
                {
                    output.WriteInteger(1);
                }
                else
                {
                    output.WriteNull();
                }

                break;
            case LuaType.Table:
                if (lua.GetField(index, "err") == LuaType.String)
                {
                    var text = lua.ToString(-1, false) ?? "";
                    lua.Pop(1);
                    output.WriteError(text.StartsWith('-') ? text[1..] : text);
                    break;
                }

                lua.Pop(1);
                if (lua.GetField(index, "ok") == LuaType.String)
                {
                    var text = lua.ToBuffer(-1, false);
                    lua.Pop(1);
                    output.WriteSimpleString(text);
                    break;
                }

                lua.Pop(1);
                if (depth > 100 || !lua.CheckStack(4))
                {
                    output.WriteError("ERR reached lua stack limit");
                    break;
                }

                var count = 0;
                while (lua.RawGetInteger(index, count + 1) != LuaType.Nil)
                {
                    lua.Pop(1);
                    count++;
                }

                lua.Pop(1);
                output.WriteArrayHeader(count);
                for (var i = 1; i <= count; i++)
                {
                    lua.RawGetInteger(index, i);
                    WriteValue(lua, -1, output, depth + 1);
                    lua.Pop(1);
                }

                break;
            default:
                output.WriteNull();
                break;
        }
    }

    /// <summary>C's (long long) cast as Redis does it on x64: out of range and NaN give the minimum.</summary>
    private static long Truncate(double value) =>
        double.IsNaN(value) || value >= 9.2233720368547758e18 || value < -9.2233720368547758e18 ? long.MinValue : (long)value;
}

/// <summary>One redis.call: its arguments and whether the script is read-only (EVAL_RO).</summary>
internal readonly record struct ScriptCall(byte[][] Args, bool ReadOnly);

/// <summary>What running a redis.call did: an error refused before the command ran, or whether it wrote.</summary>
internal readonly record struct ScriptCallResult(string? Error, bool Wrote);

internal enum KillResult
{
    NotBusy,
    Unkillable,
    Killed,
}
