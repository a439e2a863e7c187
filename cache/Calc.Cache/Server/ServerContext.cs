using System.Buffers;
using System.Collections.Concurrent;
using Calc.Cache.Commands;
using Calc.Cache.PubSub;
using Calc.Cache.Scripting;
using Calc.Cache.Storage;

namespace Calc.Cache.Server;

/// <summary>State shared by every connection: options, the keyspace, the connected clients and counters.</summary>
internal sealed class ServerContext(CacheServerOptions options)
{
    private readonly ConcurrentDictionary<long, RespSession> _clients = new();
    private long _nextClientId;
    private int _connected;
    private long _totalConnections;
    private long _rejectedConnections;
    private long _commandsOfClosedClients;

    public CacheServerOptions Options { get; } = options;

    /// <summary>The numbered databases (SELECT); each has its own blocked clients (BLPOP ...).</summary>
    public Databases Databases { get; } = new(options.Databases);

    /// <summary>Batches run in its shared mode, EXEC and scripts in its exclusive mode (their atomicity).</summary>
    public ExclusiveGate Gate { get; } = new();

    public DateTimeOffset Started { get; } = DateTimeOffset.UtcNow;

    public string RunId { get; } = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) + Convert.ToHexStringLower(BitConverter.GetBytes(Environment.TickCount64))[..8];

    /// <summary>Channels and patterns of every connection (pub/sub).</summary>
    public PubSubHub PubSub { get; } = new();

    private ScriptRunner? _scripts;

    /// <summary>The Lua interpreter, started by the first script; use only inside the gate's exclusive section.</summary>
    public ScriptRunner Scripts
    {
        get
        {
            if (_scripts is null)
            {
                var replies = new ArrayBufferWriter<byte>();
                var session = RespSession.ForScripts(this, replies);
                ScriptSession = session;
                var runner = new ScriptRunner(replies, session.ExecuteFromScript) { OnBusy = () => Gate.BusyScript = true };
                Volatile.Write(ref _scripts, runner);
            }

            _scripts.BusyThresholdMs = Options.BusyReplyThresholdMs;
            _scripts.MaxTimeMs = Options.ScriptMaxTimeMs;
            _scripts.MaxMemory = Options.LuaMaxMemory;
            return _scripts;
        }
    }

    /// <summary>The session redis.call runs on (set with <see cref="Scripts"/>): a script starts in its caller's database.</summary>
    public RespSession? ScriptSession { get; private set; }

    /// <summary>Any thread: the interpreter if a script has run (SCRIPT KILL), else null.</summary>
    public ScriptRunner? ScriptsIfStarted => Volatile.Read(ref _scripts);

    /// <summary>The append-only file when persistence is on; null otherwise.</summary>
    public AppendOnlyFile? AppendOnlyFile { get; set; }

    /// <summary>The event loops' stats for INFO threads; empty on Kestrel's socket transport.</summary>
    public Func<IReadOnlyList<IoThreadStats>> IoThreads { get; set; } = () => [];

    /// <summary>The port actually bound (differs from the option when it was 0).</summary>
    public int Port { get; set; }

    public int ConnectedClients => Volatile.Read(ref _connected);

    public long TotalConnections => Interlocked.Read(ref _totalConnections);

    public long RejectedConnections => Interlocked.Read(ref _rejectedConnections);

    public long CommandsProcessed => Interlocked.Read(ref _commandsOfClosedClients) + _clients.Values.Sum(c => c.CommandsProcessed);

    public IEnumerable<RespSession> Clients => _clients.Values.OrderBy(c => c.Id);

    /// <summary>Takes a client slot; false (and counted as rejected) when maxclients is reached.</summary>
    public bool TryAdmit()
    {
        Interlocked.Increment(ref _totalConnections);
        if (Interlocked.Increment(ref _connected) > Options.MaxClients)
        {
            Interlocked.Decrement(ref _connected);
            Interlocked.Increment(ref _rejectedConnections);
            return false;
        }

        return true;
    }

    public long NextClientId() => Interlocked.Increment(ref _nextClientId);

    public void Register(RespSession session) => _clients[session.Id] = session;

    public void Unregister(RespSession session)
    {
        if (_clients.TryRemove(session.Id, out _))
        {
            Interlocked.Add(ref _commandsOfClosedClients, session.CommandsProcessed);
            Interlocked.Decrement(ref _connected);
        }
    }

    public void ResetStats()
    {
        Interlocked.Exchange(ref _commandsOfClosedClients, 0);
        foreach (var client in _clients.Values)
        {
            client.CommandsProcessed = 0;
        }
    }
}
