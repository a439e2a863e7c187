namespace Calc.Data;

/// <summary>Read-modify-write on top of the repository contract, for every provider.</summary>
public static class DocumentRepositoryExtensions
{
    /// <summary>How many times <c>ChangeAsync</c> retries a write that lost a race before giving up.</summary>
    public const int MaxChangeAttempts = 50;

    /// <summary>
    /// Loads a document, applies <paramref name="change"/> and writes it back at the loaded version, retrying from the
    /// load when another writer got there first (optimistic concurrency): concurrent changes are serialized and none
    /// is lost. <paramref name="change"/> may run several times and returns null to leave the document as it is.
    /// The document's expiry is kept.
    /// </summary>
    /// <typeparam name="T">The document type.</typeparam>
    /// <param name="repository">The repository.</param>
    /// <param name="id">The document id.</param>
    /// <param name="change">The new content from the current one, or null for no change.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The document as it stands after the call, or null when there is no live document with that id.</returns>
    /// <exception cref="InvalidOperationException">The write lost <see cref="MaxChangeAttempts"/> races in a row.</exception>
    public static Task<DocumentChange<T>?> ChangeAsync<T>(
        this IDocumentRepository<T> repository,
        string id,
        Func<T, T?> change,
        CancellationToken cancellationToken = default)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(repository);
        ArgumentNullException.ThrowIfNull(change);
        return ChangeFromAsync(repository, id, known: null, change, cancellationToken);
    }

    /// <summary>
    /// As <see cref="ChangeAsync{T}(IDocumentRepository{T}, string, Func{T, T}, CancellationToken)"/>, starting from
    /// <paramref name="known"/>, a copy the caller already holds (loaded or written by it), instead of a load: when
    /// the copy is still current this costs one write instead of a load and a write. The copy is only a guess: its
    /// change is written at its version, so a stale copy loses the race and the change is retried from a load; and a
    /// decision not to write (the change returning null) is never taken on the copy, only on a fresh load.
    /// </summary>
    /// <typeparam name="T">The document type.</typeparam>
    /// <param name="repository">The repository.</param>
    /// <param name="known">The document as the caller last saw it stored, with its version and expiry.</param>
    /// <param name="change">The new content from the current one, or null for no change.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The document as it stands after the call, or null when there is no live document with that id.</returns>
    /// <exception cref="InvalidOperationException">The write lost <see cref="MaxChangeAttempts"/> races in a row.</exception>
    public static Task<DocumentChange<T>?> ChangeAsync<T>(
        this IDocumentRepository<T> repository,
        StoredDocument<T> known,
        Func<T, T?> change,
        CancellationToken cancellationToken = default)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(repository);
        ArgumentNullException.ThrowIfNull(known);
        ArgumentNullException.ThrowIfNull(change);
        return ChangeFromAsync(repository, known.Id, known, change, cancellationToken);
    }

    private static async Task<DocumentChange<T>?> ChangeFromAsync<T>(
        IDocumentRepository<T> repository, string id, StoredDocument<T>? known, Func<T, T?> change, CancellationToken cancellationToken)
        where T : class
    {
        for (var attempt = 0; attempt < MaxChangeAttempts; attempt++)
        {
            var stored = attempt == 0 && known is not null ? known : await repository.LoadAsync(id, cancellationToken);
            if (stored is null)
            {
                return null;
            }

            var changed = change(stored.Document);
            if (changed is null)
            {
                if (ReferenceEquals(stored, known))
                {
                    // The copy says no change; it may be stale, so the decision is taken again on a load.
                    known = null;
                    continue;
                }

                return new DocumentChange<T>(stored.Document, Changed: false) { Stored = stored };
            }

            var write = await repository.UpdateAsync(id, changed, stored.Version, stored.ExpiresAt, cancellationToken);
            if (write.Succeeded)
            {
                return new DocumentChange<T>(changed, Changed: true) { Stored = write.Stored! };
            }

            if (write.Status == WriteStatus.NotFound)
            {
                return null;
            }

            if (ReferenceEquals(stored, known))
            {
                // The caller's copy was stale: not a race lost to a concurrent writer, so no back-off.
                continue;
            }

            // Lost a race: back off a little (randomized, growing) so the writers do not collide again in lockstep.
            await Task.Delay(Random.Shared.Next(1, 5 + attempt), cancellationToken);
        }

        throw new InvalidOperationException($"Document {id} kept changing under {MaxChangeAttempts} attempts to update it.");
    }
}

/// <summary>The outcome of <c>DocumentRepositoryExtensions.ChangeAsync</c>.</summary>
/// <typeparam name="T">The document type.</typeparam>
/// <param name="Document">The document as stored after the call.</param>
/// <param name="Changed">False when the change function left it as it was.</param>
public sealed record DocumentChange<T>(T Document, bool Changed) where T : class
{
    /// <summary>
    /// The document as stored after the call, with its version and expiry: what the caller passes as the known copy to
    /// its next <see cref="DocumentRepositoryExtensions.ChangeAsync{T}(IDocumentRepository{T}, StoredDocument{T}, Func{T, T}, CancellationToken)"/>.
    /// </summary>
    public required StoredDocument<T> Stored { get; init; }
}
