using Calc.Core.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;

namespace Calc.Core.Tests.Hosting;

/// <summary>The service defaults' telemetry switches (Telemetry.AddTelemetry).</summary>
public sealed class TelemetryTests
{
    [Fact]
    public void Spans_are_recorded_only_when_an_OTLP_endpoint_says_where_to_send_them()
    {
        HasTracerProvider([]).ShouldBeFalse("no exporter: recording spans would only cost CPU");
        HasTracerProvider([new("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")]).ShouldBeTrue();
        HasTracerProvider([new("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9"), new("OTEL_SDK_DISABLED", "true")]).ShouldBeFalse();
    }

    private static bool HasTracerProvider(KeyValuePair<string, string?>[] settings)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddServiceDefaults("telemetry-test");
        using var app = builder.Build();
        return app.Services.GetService<TracerProvider>() is not null;
    }
}
