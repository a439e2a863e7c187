using System.Text.Json;
using Calc.Core.Hosting;
using Calc.Data;

namespace Calc.Core.Callbacks;

/// <summary>
/// An <see cref="ICallbackSource"/> for work stored as one document: loads it (gone when missing), asks
/// <see cref="FinalBody"/> for the body (not final while that is null) and serialises it with the services' JSON
/// settings. Each service only says what its body holds.
/// </summary>
/// <typeparam name="TDocument">The stored work (a calculation, a job).</typeparam>
/// <typeparam name="TBody">The callback body. Serialised as this static type, so attributes such as
/// <c>[JsonConverter]</c> on its properties apply.</typeparam>
/// <param name="repository">Where the work is stored.</param>
public abstract class DocumentCallbackSource<TDocument, TBody>(IDocumentRepository<TDocument> repository) : ICallbackSource
    where TDocument : class
    where TBody : class
{
    private static readonly JsonSerializerOptions Json = CreateJson();

    /// <inheritdoc />
    public async Task<CallbackContent> GetContentAsync(string workId, CancellationToken cancellationToken)
    {
        var stored = await repository.LoadAsync(workId, cancellationToken);
        if (stored is null)
        {
            return CallbackContent.Gone;
        }

        return FinalBody(stored.Document) is { } body
            ? CallbackContent.Final(JsonSerializer.SerializeToUtf8Bytes(body, Json))
            : CallbackContent.NotFinal;
    }

    /// <summary>The body to post for <paramref name="document"/>, or null while it is not final.</summary>
    /// <param name="document">The work as stored now.</param>
    protected abstract TBody? FinalBody(TDocument document);

    private static JsonSerializerOptions CreateJson()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        ServiceDefaults.ConfigureJson(options);
        return options;
    }
}
