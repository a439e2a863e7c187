using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Calc.Core.Discovery;
using Calc.Gateway.Registry;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Calc.Gateway.Rpc;

/// <summary>
/// <c>POST /internal/rpc</c>: JSON-RPC 2.0 for the registry (<c>registry.register</c>, <c>registry.heartbeat</c>,
/// <c>registry.deregister</c>). The caller must send <c>X-Internal-Key</c> equal to <c>Internal:Key</c>: 401 without
/// it, 403 with a wrong one, and 403 for every call when the gateway has no key configured (logged at start).
/// </summary>
internal static partial class InternalRpc
{
    private const int ParseError = -32700;
    private const int InvalidRequest = -32600;
    private const int MethodNotFound = -32601;
    private const int InvalidParams = -32602;

    public static void MapInternalRpc(this IEndpointRouteBuilder app) =>
        app.MapPost(RegistryRpc.Path, HandleAsync)
            .WithTags("Internal")
            .WithName("InternalRpc")
            .WithSummary("JSON-RPC 2.0 for services: registry.register, registry.heartbeat, registry.deregister.")
            .ExcludeFromDescription();

    public static void WarnWhenNoKey(WebApplication app)
    {
        if (string.IsNullOrEmpty(app.Configuration["Internal:Key"]))
        {
            LogNoKey(app.Logger);
        }
    }

    private static async Task<Results<ProblemHttpResult, JsonHttpResult<JsonRpcResponse>>> HandleAsync(HttpContext context, ServiceRegistry registry, IConfiguration configuration, CancellationToken cancellationToken)
    {
        var expected = configuration["Internal:Key"];
        var presented = context.Request.Headers[RegistryRpc.KeyHeader].ToString();
        if (presented.Length == 0)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, detail: $"Internal calls need the {RegistryRpc.KeyHeader} header.");
        }

        if (string.IsNullOrEmpty(expected) || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(expected)))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, detail: "The internal key is wrong, or none is configured on the gateway.");
        }

        JsonRpcRequest? request;
        try
        {
            request = await JsonSerializer.DeserializeAsync<JsonRpcRequest>(context.Request.Body, RegistryRpc.JsonOptions, cancellationToken);
        }
        catch (JsonException)
        {
            return Reply(null, null, new JsonRpcError(ParseError, "Parse error."));
        }

        if (request is null || request.Jsonrpc != "2.0" || string.IsNullOrEmpty(request.Method))
        {
            return Reply(request?.Id, null, new JsonRpcError(InvalidRequest, "Invalid request."));
        }

        try
        {
            switch (request.Method)
            {
                case RegistryRpc.Register:
                case RegistryRpc.Heartbeat:
                    var announcement = Params<InstanceAnnouncement>(request);
                    if (announcement is null || !IsValid(announcement))
                    {
                        return Reply(request.Id, null, new JsonRpcError(InvalidParams, "Expected {service, instanceId, baseUrl (absolute http(s) URL), capacity, processing}."));
                    }

                    var outcome = await registry.AnnounceAsync(announcement, cancellationToken);
                    return outcome == AnnounceOutcome.Evicted
                        ? Reply(request.Id, null, new JsonRpcError(RegistryRpc.EvictedError, "The instance is evicted for repeated failures; it may come back when the eviction ends."))
                        : Reply(request.Id, JsonSerializer.SerializeToElement(new { accepted = true }, RegistryRpc.JsonOptions), null);
                case RegistryRpc.Deregister:
                    var reference = Params<InstanceReference>(request);
                    if (reference is null || string.IsNullOrWhiteSpace(reference.Service) || string.IsNullOrWhiteSpace(reference.InstanceId))
                    {
                        return Reply(request.Id, null, new JsonRpcError(InvalidParams, "Expected {service, instanceId}."));
                    }

                    await registry.DeregisterAsync(reference.Service, reference.InstanceId, cancellationToken);
                    return Reply(request.Id, JsonSerializer.SerializeToElement(new { removed = true }, RegistryRpc.JsonOptions), null);
                default:
                    return Reply(request.Id, null, new JsonRpcError(MethodNotFound, $"Method '{request.Method}' not found."));
            }
        }
        catch (JsonException)
        {
            return Reply(request.Id, null, new JsonRpcError(InvalidParams, "Invalid params."));
        }
    }

    private static T? Params<T>(JsonRpcRequest request) where T : class =>
        request.Params is { ValueKind: JsonValueKind.Object } value ? value.Deserialize<T>(RegistryRpc.JsonOptions) : null;

    private static bool IsValid(InstanceAnnouncement a) =>
        !string.IsNullOrWhiteSpace(a.Service) && a.Service.Length <= 63 && !a.Service.Contains(':', StringComparison.Ordinal)
        && !string.IsNullOrWhiteSpace(a.InstanceId) && a.InstanceId.Length <= 128
        && a.BaseUrl is { IsAbsoluteUri: true } url && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps)
        && a.Capacity >= 0 && a.Processing >= 0;

    private static JsonHttpResult<JsonRpcResponse> Reply(JsonElement? id, JsonElement? result, JsonRpcError? error) =>
        TypedResults.Json(new JsonRpcResponse("2.0", result, error, id), RegistryRpc.JsonOptions);

    [LoggerMessage(LogLevel.Warning, "Internal:Key is not set: every internal call (service registration, heartbeats) is refused. Set the same Internal:Key on the gateway and the services.")]
    private static partial void LogNoKey(ILogger logger);
}
