#:sdk Microsoft.NET.Sdk.Web
#:property PublishAot=false
// The floor the service benchmark compares against: Kestrel with two minimal API endpoints that answer a small JSON
// body like the service's GET and POST of a calculation, with nothing else in the pipeline (no logging, telemetry,
// problem details or database). Run by bench/service/run.sh: `dotnet bare.dll --urls http://127.0.0.1:PORT`.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
var app = builder.Build();
var done = new { id = "0197f0e2c4d27b3e9d3f6a1b2c3d4e5f", type = "addition", status = "done", priority = "normal", result = "51", resultDigits = 2, termCount = 1, timeoutSeconds = 60 };
app.MapGet("/calculations/{id}", (string id) => Results.Json(done with { id = id }));
app.MapPost("/calculations", (Created body) => Results.Json(new { id = Guid.CreateVersion7().ToString("N"), type = body.Type, status = "building" }, statusCode: 201));
app.Run();

internal sealed record Created(string? Type, int? Init);
