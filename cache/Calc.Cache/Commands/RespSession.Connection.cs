using System.Security.Cryptography;
using System.Text;
using Calc.Cache.Storage;

namespace Calc.Cache.Commands;

// Connection commands: PING, RESET, AUTH, HELLO, CLIENT.
internal sealed partial class RespSession
{
    /// <summary>The Redis version we follow; clients use it to pick features.</summary>
    public const string CompatibleRedisVersion = "7.0.15";

    private void Ping()
    {
        if (_req.Count > 2)
        {
            WrongArity("ping");
        }
        else if (_w.Protocol == 2 && SubscriptionCount > 0)
        {
            // Subscriber mode (RESP2): PING answers as a message would look, ["pong", argument or ""].
            _w.WriteArrayHeader(2);
            _w.WriteBulk("pong"u8);
            _w.WriteBulk(_req.Count == 2 ? _req[1] : []);
        }
        else if (_req.Count == 2)
        {
            _w.WriteBulk(_req[1]);
        }
        else
        {
            _w.WriteRaw(Replies.Pong);
        }
    }

    private void Reset()
    {
        EndTransaction();
        UnsubscribeAll();
        Name = null;
        SelectDatabase(0);
        _w.Protocol = 2;
        Authenticated = string.IsNullOrEmpty(_server.Options.RequirePass);
        _w.WriteRaw("+RESET\r\n"u8);
    }

    private void Auth()
    {
        if (_req.Count > 3)
        {
            _w.WriteRaw(Replies.SyntaxError);
            return;
        }

        if (string.IsNullOrEmpty(_server.Options.RequirePass))
        {
            _w.WriteError(_req.Count == 2
                ? "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
                : "WRONGPASS invalid username-password pair or user is disabled.");
            return;
        }

        if (TryAuthenticate(_req.Count == 3 ? 1 : -1, _req.Count - 1))
        {
            _w.WriteRaw(Replies.Ok);
        }
        else
        {
            _w.WriteRaw(Replies.WrongPass);
        }
    }

    /// <summary>Checks user (index, or -1 for "default") and password in constant time.</summary>
    private bool TryAuthenticate(int userIndex, int passwordIndex)
    {
        var password = _server.Options.RequirePass;
        if (userIndex >= 0 && !Is(userIndex, "default"u8))
        {
            return false;
        }

        var ok = password is null || CryptographicOperations.FixedTimeEquals(_req[passwordIndex], Encoding.UTF8.GetBytes(password));
        if (ok)
        {
            Authenticated = true;
        }

        return ok;
    }

    private void Hello()
    {
        var protocol = _w.Protocol;
        if (_req.Count >= 2)
        {
            if (!TryParseInteger(_req[1], out var requested))
            {
                _w.WriteError("ERR Protocol version is not an integer or out of range");
                return;
            }

            if (requested is not (2 or 3))
            {
                _w.WriteError("NOPROTO unsupported protocol version");
                return;
            }

            protocol = (int)requested;
        }

        string? newName = null;
        for (var i = 2; i < _req.Count; i++)
        {
            if (Is(i, "AUTH"u8) && i + 2 < _req.Count)
            {
                if (!TryAuthenticate(i + 1, i + 2) && !string.IsNullOrEmpty(_server.Options.RequirePass))
                {
                    _w.WriteRaw(Replies.WrongPass);
                    return;
                }

                i += 2;
            }
            else if (Is(i, "SETNAME"u8) && i + 1 < _req.Count)
            {
                newName = _req.GetString(++i);
                if (!IsValidClientName(newName))
                {
                    _w.WriteError("ERR Client names cannot contain spaces, newlines or special characters.");
                    return;
                }
            }
            else
            {
                _w.WriteError($"ERR Syntax error in HELLO option '{_req.GetString(i)}'");
                return;
            }
        }

        if (!Authenticated && !string.IsNullOrEmpty(_server.Options.RequirePass))
        {
            _w.WriteError("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
            return;
        }

        if (newName is not null)
        {
            Name = newName.Length == 0 ? null : newName;
        }

        _w.Protocol = protocol;
        _w.WriteMapHeader(7);
        _w.WriteBulk("server"u8);
        _w.WriteBulk("redis"u8);
        _w.WriteBulk("version"u8);
        _w.WriteBulk(CompatibleRedisVersion);
        _w.WriteBulk("proto"u8);
        _w.WriteInteger(protocol);
        _w.WriteBulk("id"u8);
        _w.WriteInteger(Id);
        _w.WriteBulk("mode"u8);
        _w.WriteBulk("standalone"u8);
        _w.WriteBulk("role"u8);
        _w.WriteBulk("master"u8);
        _w.WriteBulk("modules"u8);
        _w.WriteRaw(Replies.EmptyArray);
    }

    private static bool IsValidClientName(string name) => name.All(c => c is >= '!' and <= '~');

    private void Client()
    {
        var sub = _req.GetString(1).ToLowerInvariant();
        switch (sub)
        {
            case "id" when _req.Count == 2:
                _w.WriteInteger(Id);
                break;
            case "getname" when _req.Count == 2:
                if (Name is null)
                {
                    _w.WriteNull();
                }
                else
                {
                    _w.WriteBulk(Name);
                }

                break;
            case "setname" when _req.Count == 3:
                var name = _req.GetString(2);
                if (!IsValidClientName(name))
                {
                    _w.WriteError("ERR Client names cannot contain spaces, newlines or special characters.");
                    return;
                }

                Name = name.Length == 0 ? null : name;
                _w.WriteRaw(Replies.Ok);
                break;
            case "setinfo" when _req.Count == 4:
                // Redis 7.2 clients (redis-py, go-redis) send this on connect; store it and answer OK.
                if (Is(2, "LIB-NAME"u8))
                {
                    LibName = _req.GetString(3);
                }
                else if (Is(2, "LIB-VER"u8))
                {
                    LibVersion = _req.GetString(3);
                }
                else
                {
                    _w.WriteError($"ERR Unrecognized option '{_req.GetString(2)}'");
                    return;
                }

                _w.WriteRaw(Replies.Ok);
                break;
            case "info" when _req.Count == 2:
                _w.WriteBulk(DescribeClient(this) + "\n");
                break;
            case "list":
                var text = new StringBuilder();
                foreach (var client in _server.Clients)
                {
                    text.Append(DescribeClient(client)).Append('\n');
                }

                _w.WriteBulk(text.ToString());
                break;
            case "help":
                WriteLines(
                    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                    "ID", "    Return the ID of the current connection.",
                    "GETNAME", "    Return the name of the current connection.",
                    "SETNAME <name>", "    Assign the name <name> to the current connection.",
                    "INFO", "    Return information about the current client connection.",
                    "LIST", "    Return information about client connections.",
                    "SETINFO <LIB-NAME|LIB-VER> <value>", "    Record the client library name or version.");
                break;
            case "id" or "getname" or "setname" or "setinfo" or "info":
                WrongArity($"client|{sub}");
                break;
            default:
                _w.WriteError($"ERR unknown subcommand '{Printable(_req.GetString(1))}'. Try CLIENT HELP.");
                break;
        }
    }

    private void WriteLines(params string[] lines)
    {
        _w.WriteArrayHeader(lines.Length);
        foreach (var line in lines)
        {
            _w.WriteSimpleString(Encoding.UTF8.GetBytes(line));
        }
    }

    private static string DescribeClient(RespSession c)
    {
        var now = Clock.UnixMs;
        return $"id={c.Id} addr={c.Address} laddr={c.LocalAddress} fd=-1 name={c.Name} age={(now - c.CreatedMs) / 1000} " +
            $"idle={(now - c.LastInteractionMs) / 1000} flags=N db={c.Database} sub=0 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=0 " +
            $"argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd={c._lastCommand?.Name ?? "NULL"} " +
            $"user=default redir=-1 resp={c.Protocol} lib-name={c.LibName} lib-ver={c.LibVersion}";
    }
}
