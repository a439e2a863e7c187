using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Calc.Testing;

/// <summary>
/// A small OTLP/HTTP receiver on a free loopback port: what the apps' OpenTelemetry exporters send with
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set to <see cref="Endpoint"/> and <c>OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf</c>.
/// It decodes the spans of <c>POST /v1/traces</c> (the protobuf wire format read directly: the few fields a test
/// needs) and accepts metrics and logs without reading them.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly List<ReceivedSpan> _spans = [];
    private readonly int _port = ProcessTools.FreePort();
    private WebApplication? _app;

    /// <summary>The value for <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>.</summary>
    public string Endpoint => $"http://127.0.0.1:{_port}";

    /// <summary>The settings that make an app export here, quickly (every 200 ms instead of 5 s).</summary>
    public (string Key, string? Value)[] ExporterSettings() =>
    [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", Endpoint),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ("OTEL_BSP_SCHEDULE_DELAY", "200"),
        ("OTEL_BLRP_SCHEDULE_DELAY", "200"),
    ];

    /// <summary>Every span received so far.</summary>
    public IReadOnlyList<ReceivedSpan> Spans
    {
        get
        {
            lock (_gate)
            {
                return [.. _spans];
            }
        }
    }

    /// <summary>Starts listening.</summary>
    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(Endpoint);
        var app = builder.Build();
        app.MapPost("/v1/traces", async context =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            var spans = DecodeTraces(body.ToArray());
            lock (_gate)
            {
                _spans.AddRange(spans);
            }

            context.Response.ContentType = "application/x-protobuf";
        });
        app.MapPost("/v1/{signal}", context =>
        {
            context.Response.ContentType = "application/x-protobuf";
            return Task.CompletedTask;
        });
        await app.StartAsync();
        _app = app;
    }

    /// <summary>Waits until the spans received satisfy <paramref name="condition"/>; returns them.</summary>
    public async Task<IReadOnlyList<ReceivedSpan>> WaitForAsync(Func<IReadOnlyList<ReceivedSpan>, bool> condition, TimeSpan within, string what)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            var spans = Spans;
            if (condition(spans))
            {
                return spans;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Not within {within}: {what}. Spans received:\n{string.Join("\n", spans)}");
            }

            await Task.Delay(100);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    // ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
    // ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }  Resource { repeated KeyValue attributes = 1; }
    // ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; }  InstrumentationScope { string name = 1; }
    // Span { bytes trace_id = 1; bytes span_id = 2; bytes parent_span_id = 4; string name = 5; SpanKind kind = 6; }
    // KeyValue { string key = 1; AnyValue value = 2; }  AnyValue { string string_value = 1; ... }
    private static List<ReceivedSpan> DecodeTraces(byte[] request)
    {
        var spans = new List<ReceivedSpan>();
        foreach (var resourceSpans in Fields(request).Where(f => f.Number == 1))
        {
            var fields = Fields(resourceSpans.Bytes);
            var attributes = fields.Where(f => f.Number == 1).SelectMany(r => Fields(r.Bytes)).Where(f => f.Number == 1)
                .Select(KeyValue).ToDictionary(a => a.Key, a => a.Value, StringComparer.Ordinal);
            foreach (var scopeSpans in fields.Where(f => f.Number == 2))
            {
                var scopeFields = Fields(scopeSpans.Bytes);
                var scope = scopeFields.Where(f => f.Number == 1).Select(s => Text(Fields(s.Bytes), 1)).FirstOrDefault() ?? "";
                foreach (var span in scopeFields.Where(f => f.Number == 2))
                {
                    var spanFields = Fields(span.Bytes);
                    spans.Add(new ReceivedSpan(
                        attributes.GetValueOrDefault("service.name", ""),
                        attributes.GetValueOrDefault("service.instance.id", ""),
                        scope,
                        Hex(spanFields, 1),
                        Hex(spanFields, 2),
                        Hex(spanFields, 4),
                        Text(spanFields, 5) ?? "",
                        (int)(spanFields.FirstOrDefault(f => f.Number == 6).Value)));
                }
            }
        }

        return spans;
    }

    private static (string Key, string Value) KeyValue(WireField field)
    {
        var fields = Fields(field.Bytes);
        var value = fields.Where(f => f.Number == 2).Select(v => Text(Fields(v.Bytes), 1)).FirstOrDefault();
        return (Text(fields, 1) ?? "", value ?? "");
    }

    private static string? Text(List<WireField> fields, int number) =>
        fields.Where(f => f.Number == number).Select(f => Encoding.UTF8.GetString(f.Bytes)).FirstOrDefault();

    private static string Hex(List<WireField> fields, int number) =>
        fields.Where(f => f.Number == number).Select(f => Convert.ToHexStringLower(f.Bytes)).FirstOrDefault() ?? "";

    private static List<WireField> Fields(byte[] message)
    {
        var fields = new List<WireField>();
        var position = 0;
        while (position < message.Length)
        {
            var tag = Varint(message, ref position);
            var number = (int)(tag >> 3);
            switch (tag & 7)
            {
                case 0:
                    fields.Add(new(number, Varint(message, ref position), []));
                    break;
                case 1:
                    fields.Add(new(number, BitConverter.ToUInt64(message, position), []));
                    position += 8;
                    break;
                case 2:
                    var length = (int)Varint(message, ref position);
                    fields.Add(new(number, 0, message[position..(position + length)]));
                    position += length;
                    break;
                case 5:
                    fields.Add(new(number, BitConverter.ToUInt32(message, position), []));
                    position += 4;
                    break;
                default:
                    throw new InvalidDataException($"Unexpected protobuf wire type {tag & 7} in an OTLP request.");
            }
        }

        return fields;
    }

    private static ulong Varint(byte[] message, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = message[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
    }

    // Bytes: the payload of a length-delimited field (a string, bytes or an embedded message), else empty.
    private readonly record struct WireField(int Number, ulong Value, byte[] Bytes);
}

/// <summary>One span an <see cref="OtlpReceiver"/> got.</summary>
/// <param name="ServiceName">The exporting app's <c>service.name</c>.</param>
/// <param name="InstanceId">Its <c>service.instance.id</c>.</param>
/// <param name="Scope">The instrumentation scope (the <c>ActivitySource</c>'s name).</param>
/// <param name="TraceId">32 lower-case hex digits.</param>
/// <param name="SpanId">16 lower-case hex digits.</param>
/// <param name="ParentSpanId">16 hex digits, or empty for a root span.</param>
/// <param name="Name">The span's name.</param>
/// <param name="Kind">OTLP's SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer.</param>
public sealed record ReceivedSpan(string ServiceName, string InstanceId, string Scope, string TraceId, string SpanId, string ParentSpanId, string Name, int Kind);
