using System.Buffers;
using Calc.Cache.Protocol;
using Calc.Cache.Scripting;
using Calc.Cache.Server;

namespace Calc.Cache.Commands;

// Scripting: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT LOAD/EXISTS/FLUSH/KILL. A script runs in the gate's exclusive
// section (atomic, as in Redis); its redis.call commands run on the server's script session (ExecuteFromScript).
internal sealed partial class RespSession
{
    /// <summary>The session redis.call runs on: authenticated, RESP2, its replies into <paramref name="replies"/>.</summary>
    internal static RespSession ForScripts(ServerContext server, ArrayBufferWriter<byte> replies)
    {
        var session = new RespSession(server, new RespWriter(replies), "lua", "lua") { Authenticated = true };
        session._exclusive = true;
        return session;
    }

    /// <summary>Commands a script may not call (Redis's noscript flag).</summary>
    private static bool NotAllowedFromScript(CommandKind kind) => kind is CommandKind.Multi or CommandKind.Exec
        or CommandKind.Discard or CommandKind.Watch or CommandKind.Unwatch or CommandKind.Eval or CommandKind.EvalSha
        or CommandKind.EvalRo or CommandKind.EvalShaRo or CommandKind.Script or CommandKind.Subscribe
        or CommandKind.Unsubscribe or CommandKind.PSubscribe or CommandKind.PUnsubscribe or CommandKind.Auth
        or CommandKind.Hello or CommandKind.Quit or CommandKind.Reset or CommandKind.Client or CommandKind.Config;

    /// <summary>One redis.call on the script session: Redis's refusals first, then the command as a client's.</summary>
    internal ScriptCallResult ExecuteFromScript(ScriptCall call)
    {
        var request = new RespRequest();
        request.Reset();
        foreach (var arg in call.Args)
        {
            request.Add(arg);
        }

        var info = CommandTable.Find(request[0]);
        if (info is null)
        {
            return new("ERR Unknown Redis command called from script", false);
        }

        if (!info.ArityOk(request.Count))
        {
            return new("ERR Wrong number of args calling Redis command from script", false);
        }

        if (NotAllowedFromScript(info.Kind))
        {
            return new("ERR This Redis command is not allowed from script", false);
        }

        var writes = (info.Flags & CommandFlags.Write) != 0;
        if (call.ReadOnly && writes)
        {
            return new("ERR Write commands are not allowed from read-only scripts.", false);
        }

        _w.ClearErrorFlag();
        Execute(request);
        return new(null, writes && !_w.ErrorWritten);
    }

    private void Eval(bool bySha, bool readOnly)
    {
        if (!TryArgInteger(2, out var numKeys))
        {
            return;
        }

        if (numKeys < 0)
        {
            _w.WriteError("ERR Number of keys can't be negative");
            return;
        }

        if (numKeys > _req.Count - 3)
        {
            _w.WriteError("ERR Number of keys can't be greater than number of args");
            return;
        }

        var keys = new byte[numKeys][];
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i] = _req.ToArray(3 + i);
        }

        var args = new byte[_req.Count - 3 - numKeys][];
        for (var i = 0; i < args.Length; i++)
        {
            args[i] = _req.ToArray(3 + (int)numKeys + i);
        }

        var script = _req.ToArray(1);
        RunExclusive((Self: this, Script: script, BySha: bySha, Keys: keys, Args: args, ReadOnly: readOnly), static s =>
        {
            var runner = s.Self._server.Scripts;
            string sha;
            if (s.BySha)
            {
                sha = System.Text.Encoding.ASCII.GetString(s.Script).ToLowerInvariant();
                if (!runner.Exists(sha))
                {
                    s.Self._w.WriteError("NOSCRIPT No matching script. Please use EVAL.");
                    return;
                }
            }
            else if (runner.Load(s.Script, out sha) is { } error)
            {
                s.Self._w.WriteError(error);
                return;
            }

            s.Self._server.ScriptSession!.SelectDatabase(s.Self._keyspace.Index); // a script starts in its caller's database; its SELECTs stay its own (Redis 7)
            runner.Run(sha, s.Keys, s.Args, s.ReadOnly, s.Self._w);
        });
    }

    private void Script()
    {
        if (Is(1, "kill"u8) && _req.Count == 2)
        {
            // Not in the exclusive section: the script to stop holds it.
            switch (_server.ScriptsIfStarted?.Kill() ?? KillResult.NotBusy)
            {
                case KillResult.NotBusy: _w.WriteError("NOTBUSY No scripts in execution right now."); break;
                case KillResult.Unkillable: _w.WriteError("UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command."); break;
                default: _w.WriteRaw(Replies.Ok); break;
            }

            return;
        }

        if (Is(1, "load"u8) && _req.Count == 3)
        {
            var body = _req.ToArray(2);
            RunExclusive((Self: this, Body: body), static s =>
            {
                if (s.Self._server.Scripts.Load(s.Body, out var sha) is { } error)
                {
                    s.Self._w.WriteError(error);
                }
                else
                {
                    s.Self._w.WriteBulk(sha);
                }
            });
        }
        else if (Is(1, "exists"u8) && _req.Count >= 3)
        {
            RunExclusive(this, static self =>
            {
                self._w.WriteArrayHeader(self._req.Count - 2);
                for (var i = 2; i < self._req.Count; i++)
                {
                    self._w.WriteInteger(self._server.Scripts.Exists(self._req.GetString(i)) ? 1 : 0);
                }
            });
        }
        else if (Is(1, "flush"u8) && (_req.Count == 2 || (_req.Count == 3 && (Is(2, "async"u8) || Is(2, "sync"u8)))))
        {
            RunExclusive(this, static self => self._server.Scripts.Flush());
            _w.WriteRaw(Replies.Ok);
        }
        else if (Is(1, "help"u8))
        {
            WriteLines(
                "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "EXISTS <sha1> [<sha1> ...]",
                "    Return information about the existence of the scripts in the script cache.",
                "FLUSH [ASYNC|SYNC]",
                "    Flush the Lua scripts cache.",
                "KILL",
                "    Kill the currently executing Lua script.",
                "LOAD <script>",
                "    Load a script into the scripts cache without executing it.",
                "HELP",
                "    Print this help.");
        }
        else
        {
            _w.WriteError($"ERR unknown subcommand '{Printable(_req.GetString(1))}'. Try SCRIPT HELP.");
        }
    }
}
