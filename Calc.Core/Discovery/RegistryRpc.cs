using System.Text.Json;
using System.Text.Json.Serialization;

namespace Calc.Core.Discovery;

/// <summary>
/// The internal RPC between services and the gateway: JSON-RPC 2.0 over <c>POST /internal/rpc</c>, with the shared
/// key (<c>Internal:Key</c>) in the <see cref="KeyHeader"/> header.
/// </summary>
public static class RegistryRpc
{
    /// <summary>The gateway's RPC endpoint.</summary>
    public const string Path = "/internal/rpc";

    /// <summary>The header carrying the shared key.</summary>
    public const string KeyHeader = "X-Internal-Key";

    /// <summary>Adds or replaces an instance (params: <see cref="InstanceAnnouncement"/>).</summary>
    public const string Register = "registry.register";

    /// <summary>Renews an instance's entry and reports its load (params: <see cref="InstanceAnnouncement"/>; an upsert, so a gateway that lost the entry gets it back).</summary>
    public const string Heartbeat = "registry.heartbeat";

    /// <summary>Removes an instance (params: <see cref="InstanceReference"/>).</summary>
    public const string Deregister = "registry.deregister";

    /// <summary>JSON-RPC error code: the instance was evicted for repeated failures and may not heartbeat back in until the eviction ends.</summary>
    public const int EvictedError = -32001;

    /// <summary>JSON conventions of the RPC messages (camelCase, nulls omitted).</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}

/// <summary>An instance as it announces itself in <c>registry.register</c> and <c>registry.heartbeat</c>.</summary>
/// <param name="Service">The service name, e.g. <c>calculations</c>.</param>
/// <param name="InstanceId">The instance id, unique per process.</param>
/// <param name="BaseUrl">Where the gateway reaches the instance, e.g. <c>http://10.0.0.5:8080</c>.</param>
/// <param name="Capacity">Tasks the instance processes at once, at most.</param>
/// <param name="Processing">Tasks it processes now.</param>
public sealed record InstanceAnnouncement(string Service, string InstanceId, Uri BaseUrl, int Capacity, int Processing);

/// <summary>Names one instance (params of <c>registry.deregister</c>).</summary>
/// <param name="Service">The service name.</param>
/// <param name="InstanceId">The instance id.</param>
public sealed record InstanceReference(string Service, string InstanceId);

/// <summary>A JSON-RPC 2.0 request.</summary>
/// <param name="Jsonrpc">Always <c>2.0</c>.</param>
/// <param name="Method">The method name.</param>
/// <param name="Params">The method's parameters.</param>
/// <param name="Id">The request id (a number or a string); absent for a notification.</param>
public sealed record JsonRpcRequest(string Jsonrpc, string Method, JsonElement? Params, JsonElement? Id);

/// <summary>A JSON-RPC 2.0 response: <paramref name="Result"/> or <paramref name="Error"/>.</summary>
/// <param name="Jsonrpc">Always <c>2.0</c>.</param>
/// <param name="Result">The result on success.</param>
/// <param name="Error">The error on failure.</param>
/// <param name="Id">The id of the request answered.</param>
public sealed record JsonRpcResponse(string Jsonrpc, JsonElement? Result, JsonRpcError? Error, JsonElement? Id);

/// <summary>A JSON-RPC 2.0 error.</summary>
/// <param name="Code">The error code (-32700 parse error, -32600 invalid request, -32601 no such method, -32602 invalid params, or an application code).</param>
/// <param name="Message">What went wrong.</param>
public sealed record JsonRpcError(int Code, string Message);
