using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Calc.Core.Hosting;
using Calc.Data;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Calc.Core.Idempotency;

/// <summary>
/// The <c>Idempotency-Key</c> request header of a create (as in draft-ietf-httpapi-idempotency-key-header): a client
/// sends the same key with the same request again (a retry, by itself or by the gateway on another instance) and gets
/// the resource the first one made instead of a second one.
/// </summary>
/// <remarks>
/// A key is remembered as a document whose id is a hash of the service name and the key, inserted before the resource
/// is made. The insert is the one decision every instance agrees on: the first request's insert wins and fixes the
/// resource id; every later one with that key reads the id back (or is refused when its request differs). The
/// resource itself is then made by inserts on that fixed id, which any of the requests may do: so a request whose
/// instance died half-way is completed by its retry, and of two concurrent ones the resource insert lets one win.
/// </remarks>
public sealed class IdempotencyKeys
{
    /// <summary>The request header.</summary>
    public const string HeaderName = "Idempotency-Key";

    /// <summary>Response header set to <c>true</c> when the answer is a replay of an earlier request's resource.</summary>
    public const string ReplayedHeaderName = "Idempotent-Replayed";

    // An insert that finds a key which then expires before it is read starts over; more than a few in a row means
    // the store is broken, not racing.
    private const int MaxClaimAttempts = 3;

    private const string KeyLifetimeKey = IdempotencyOptions.SectionName + ":" + nameof(IdempotencyOptions.KeyLifetime);

    private readonly IDocumentRepository<IdempotencyRecord> _repository;
    private readonly IdempotencyOptions _options;
    private readonly string _scope;
    private readonly TimeProvider _time;

    internal IdempotencyKeys(IDocumentRepository<IdempotencyRecord> repository, IOptions<IdempotencyOptions> options, ServiceIdentity identity, TimeProvider time)
    {
        _repository = repository;
        _options = options.Value;
        _scope = identity.ServiceName;
        _time = time;
    }

    /// <summary>
    /// Reads the request's <c>Idempotency-Key</c> and claims it for <paramref name="operation"/> with
    /// <paramref name="request"/>. Without the header: the claim of a fresh <paramref name="newResourceId"/>. With a
    /// key seen for the first time: the same, remembered for <c>Idempotency:KeyLifetime</c>. With a key seen before
    /// for an equal request: the resource id that request was given (the resource may or may not exist yet). Refused
    /// with 400 naming <c>Idempotency-Key</c> for a malformed key, and 422 for a key seen with a different request.
    /// </summary>
    /// <typeparam name="TRequest">The bound request body; its JSON form is what "equal" compares.</typeparam>
    /// <param name="context">The request.</param>
    /// <param name="operation">Names the endpoint (a key used on two endpoints is two different requests).</param>
    /// <param name="request">The request body as bound.</param>
    /// <param name="newResourceId">The id the resource gets when this request is the first with its key.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<IdempotencyClaim> ClaimAsync<TRequest>(
        HttpContext context, string operation, TRequest request, string newResourceId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentException.ThrowIfNullOrEmpty(newResourceId);
        if (!TryReadKey(context.Request, out var key, out var error))
        {
            return new IdempotencyClaim(newResourceId, null, InvalidKey(error));
        }

        if (key is null)
        {
            return new IdempotencyClaim(newResourceId, null, null);
        }

        var keyId = Hash(_scope, "\n"u8, Encoding.UTF8.GetBytes(key));
        var requestHash = Hash(operation, "\n"u8, JsonSerializer.SerializeToUtf8Bytes(request));
        for (var attempt = 0; attempt < MaxClaimAttempts; attempt++)
        {
            var now = _time.GetUtcNow();
            var record = new IdempotencyRecord { ResourceId = newResourceId, RequestHash = requestHash, CreatedAt = now };
            var write = await _repository.InsertAsync(keyId, record, now + _options.KeyLifetime, cancellationToken).ConfigureAwait(false);
            if (write.Succeeded)
            {
                return new IdempotencyClaim(newResourceId, keyId, null);
            }

            var stored = await _repository.LoadAsync(keyId, cancellationToken).ConfigureAwait(false);
            if (stored is null)
            {
                continue; // It expired between the insert and the load: the key is free again.
            }

            return stored.Document.RequestHash == requestHash
                ? new IdempotencyClaim(stored.Document.ResourceId, keyId, null)
                : new IdempotencyClaim(stored.Document.ResourceId, keyId, TypedResults.Problem(
                    statusCode: StatusCodes.Status422UnprocessableEntity,
                    title: "Idempotency-Key reused",
                    detail: $"This {HeaderName} was sent with a different request within the last {_options.KeyLifetime} " +
                            $"({KeyLifetimeKey}); send a new key for a new request."));
        }

        throw new InvalidOperationException($"The {HeaderName} kept expiring between its insert and its load.");
    }

    /// <summary>
    /// Reads the request's <c>Idempotency-Key</c> without claiming it, for an endpoint that remembers its keys in the
    /// resource it changes (a term added to a calculation): the same rules as <see cref="ClaimAsync{TRequest}"/>.
    /// </summary>
    /// <param name="context">The request.</param>
    /// <param name="key">The key, or null when the request has none.</param>
    /// <param name="refusal">A 400 naming <c>Idempotency-Key</c> when it is malformed, else null.</param>
    /// <returns>False when the key is malformed.</returns>
    public bool TryReadKey(HttpContext context, out string? key, [NotNullWhen(false)] out ProblemHttpResult? refusal)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (TryReadKey(context.Request, out key, out var error))
        {
            refusal = null;
            return true;
        }

        refusal = InvalidKey(error);
        return false;
    }

    /// <summary>Marks the response as a replay: the resource was made by an earlier request with the same key.</summary>
    /// <param name="context">The request.</param>
    public static void MarkReplayed(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.Headers[ReplayedHeaderName] = "true";
    }

    /// <summary>A 400 naming <c>Idempotency-Key</c>, for an endpoint that does not take one.</summary>
    /// <param name="context">The request.</param>
    /// <param name="reason">Why this endpoint does not take one.</param>
    /// <returns>The refusal, or null when the request has no <c>Idempotency-Key</c>.</returns>
    public static ProblemHttpResult? RefuseIfPresent(HttpContext context, string reason)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Request.Headers.ContainsKey(HeaderName) ? InvalidKey($"'{HeaderName}' is not supported here: {reason}") : null;
    }

    private bool TryReadKey(HttpRequest request, out string? key, out string error)
    {
        key = null;
        error = string.Empty;
        if (!request.Headers.TryGetValue(HeaderName, out var values))
        {
            return true;
        }

        if (values.Count != 1)
        {
            error = $"'{HeaderName}' must be sent once, with one value.";
            return false;
        }

        var value = values[0] ?? string.Empty;
        if (value.Length == 0 || value.Length > _options.MaxKeyLength)
        {
            error = $"'{HeaderName}' must have 1 to {_options.MaxKeyLength} characters ({IdempotencyOptions.SectionName}:MaxKeyLength).";
            return false;
        }

        // Printable ASCII only: the key is compared byte for byte, so no encoding may make two spellings of one key.
        if (value.AsSpan().ContainsAnyExceptInRange(' ', '~'))
        {
            error = $"'{HeaderName}' may hold printable ASCII characters only.";
            return false;
        }

        key = value;
        return true;
    }

    private static ProblemHttpResult InvalidKey(string message) =>
        TypedResults.Problem(new HttpValidationProblemDetails(new Dictionary<string, string[]> { [HeaderName] = [message] })
        {
            Status = StatusCodes.Status400BadRequest,
        });

    private static string Hash(string prefix, ReadOnlySpan<byte> separator, ReadOnlySpan<byte> content)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(prefix));
        hash.AppendData(separator);
        hash.AppendData(content);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}

/// <summary>What <see cref="IdempotencyKeys.ClaimAsync{TRequest}"/> decided.</summary>
/// <param name="ResourceId">The id to make (or answer) the resource under.</param>
/// <param name="KeyId">The remembered key's id when the request had a key, else null; stored with the resource, so a
/// resource found under <paramref name="ResourceId"/> can be told to belong to this key.</param>
/// <param name="Refusal">The answer when the request must not go on (400 malformed key, 422 key reused), else null.</param>
public sealed record IdempotencyClaim(string ResourceId, string? KeyId, ProblemHttpResult? Refusal)
{
    /// <summary>True when the request had a valid key: the resource may exist already, made by an earlier request.</summary>
    public bool IsKeyed => KeyId is not null;
}
