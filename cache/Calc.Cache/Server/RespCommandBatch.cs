using System.Buffers;
using Calc.Cache.Commands;
using Calc.Cache.Protocol;

namespace Calc.Cache.Server;

/// <summary>
/// The step both connection loops share (pipes on Kestrel's socket transport, the epoll transport's direct path):
/// parse every complete command at the start of the input and run each on the session, stopping early when
/// <see cref="SendThreshold"/> reply bytes wait (so a long pipeline cannot buffer unbounded output), on QUIT, or on a
/// protocol error, whose error reply it writes (Redis then closes only that connection).
/// </summary>
internal sealed class RespCommandBatch(RespSession session, RespWriter writer, ServerContext server) : IBatchProcessor
{
    /// <summary>Reply bytes after which the batch stops so the caller sends them before going on.</summary>
    public const int SendThreshold = 64 * 1024;

    private readonly RespRequest _request = new();
    private readonly RespLimits _limits = server.Options.Limits;

    public TimeSpan OutputTimeout => server.Options.ClientOutputTimeout;

    public void ResumeBlocked() => session.ResumeBlocked();

    public void CancelBlocked() => session.CancelBlocked();

    public BatchStatus Process(ref ReadOnlySequence<byte> input)
    {
        writer.MarkFlushed(); // both callers send or flush everything a batch wrote before calling again
        // Atomicity of EXEC and scripts: the whole batch runs in the gate's shared mode (see ExclusiveGate).
        session.Gated = true;
        session.HoldsShared = server.Gate.EnterShared();
        try
        {
            return ProcessCommands(ref input);
        }
        finally
        {
            if (session.HoldsShared)
            {
                server.Gate.ExitShared();
            }

            session.HoldsShared = session.Gated = false;
        }
    }

    /// <summary>Writes the pub/sub messages other loops queued for this connection; true if there were any.</summary>
    public bool WritePushes() => session.TakePushes();

    private BatchStatus ProcessCommands(ref ReadOnlySequence<byte> input)
    {
        session.TakePushes(); // messages that arrived before this batch go out before its replies
        while (true)
        {
            var status = RespParser.TryParse(ref input, _request, _limits, out var error);
            if (status == RespParseStatus.Incomplete)
            {
                return BatchStatus.NeedMoreInput;
            }

            if (status == RespParseStatus.Error)
            {
                writer.WriteError(error!);
                return BatchStatus.Close;
            }

            session.Execute(_request);
            if (session.CloseRequested)
            {
                return BatchStatus.Close;
            }

            if (session.IsBlocked)
            {
                return BatchStatus.Blocked;
            }

            if (writer.Unflushed >= SendThreshold)
            {
                return BatchStatus.SendFirst;
            }
        }
    }
}
