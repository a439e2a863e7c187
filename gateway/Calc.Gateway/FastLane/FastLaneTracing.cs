using System.Diagnostics;
using Calc.Core.Hosting;

namespace Calc.Gateway.FastLane;

/// <summary>
/// W3C trace context on the fast lane, which writes its own request heads. When the gateway's tracing listens, each
/// forward is a span (<see cref="GatewayTelemetry.Source"/>) continuing the client's <c>traceparent</c> and the
/// instance gets that span's context; when nobody listens, no <see cref="Activity"/> is made: the client's valid
/// <c>traceparent</c> goes on unchanged, or a new one is generated (not sampled, as the full path's unlistened request
/// would send), so the instance's span always has a trace to join.
/// </summary>
internal static class FastLaneTracing
{
    /// <summary>Length of a version-00 traceparent: <c>00-{32 hex}-{16 hex}-{2 hex}</c>.</summary>
    public const int Length = 55;

    /// <summary>Writes the traceparent to send into <paramref name="destination"/> and returns the forward's span, if one is recorded.</summary>
    public static Activity? Start(ReadOnlySpan<byte> incoming, Span<byte> destination, EventLoop loop, string service, string instanceId)
    {
        var parsed = TryParse(incoming, out var parent);
        if (GatewayTelemetry.Source.HasListeners())
        {
            var activity = GatewayTelemetry.Source.StartActivity(GatewayTelemetry.FastLaneForward, ActivityKind.Server, parent);
            if (activity is not null)
            {
                Activity.Current = null; // the loop thread serves many connections: nothing may stay current on it
                if (activity.IsAllDataRequested)
                {
                    activity.SetTag("calc.service", service);
                    activity.SetTag("calc.instance_id", instanceId);
                }

                Write(destination, activity.TraceId, activity.SpanId, activity.ActivityTraceFlags);
                return activity;
            }
        }

        if (parsed)
        {
            incoming.CopyTo(destination);
        }
        else
        {
            Span<byte> random = stackalloc byte[24];
            loop.NextBytes(random);
            Write(destination, ActivityTraceId.CreateFromBytes(random[..16]), ActivitySpanId.CreateFromBytes(random[16..]), ActivityTraceFlags.None);
        }

        return null;
    }

    /// <summary>A version-00 traceparent with a non-zero trace id and parent id (W3C trace context, section 3.2).</summary>
    public static bool TryParse(ReadOnlySpan<byte> value, out ActivityContext context)
    {
        context = default;
        if (value.Length != Length || value[0] != (byte)'0' || value[1] != (byte)'0' || value[2] != (byte)'-' || value[35] != (byte)'-' || value[52] != (byte)'-'
            || !IsLowerHex(value[3..35]) || !IsLowerHex(value[36..52]) || !IsLowerHex(value[53..]) || IsZeros(value[3..35]) || IsZeros(value[36..52]))
        {
            return false;
        }

        var flags = (ActivityTraceFlags)(HexValue(value[54]) & 1);
        context = new ActivityContext(ActivityTraceId.CreateFromUtf8String(value[3..35]), ActivitySpanId.CreateFromUtf8String(value[36..52]), flags, isRemote: true);
        return true;
    }

    private static void Write(Span<byte> destination, ActivityTraceId traceId, ActivitySpanId spanId, ActivityTraceFlags flags)
    {
        Span<byte> raw = stackalloc byte[16];
        "00-"u8.CopyTo(destination);
        traceId.CopyTo(raw);
        Convert.TryToHexStringLower(raw, destination[3..35], out _);
        destination[35] = (byte)'-';
        spanId.CopyTo(raw[..8]);
        Convert.TryToHexStringLower(raw[..8], destination[36..52], out _);
        destination[52] = (byte)'-';
        destination[53] = (byte)'0';
        destination[54] = (flags & ActivityTraceFlags.Recorded) != 0 ? (byte)'1' : (byte)'0';
    }

    private static readonly System.Buffers.SearchValues<byte> LowerHex = System.Buffers.SearchValues.Create("0123456789abcdef"u8);

    private static bool IsLowerHex(ReadOnlySpan<byte> value) => !value.ContainsAnyExcept(LowerHex);

    private static bool IsZeros(ReadOnlySpan<byte> value) => !value.ContainsAnyExcept((byte)'0');

    private static int HexValue(byte b) => b <= (byte)'9' ? b - '0' : b - 'a' + 10;
}
