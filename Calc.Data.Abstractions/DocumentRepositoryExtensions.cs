namespace Calc.Data;

/// <summary>Read-modify-write on top of the repository contract, for every provider.</summary>
public static class DocumentRepositoryExtensions
{
    /// <summary>How many times <see cref="ChangeAsync{T}"/> retries a write that lost a race before giving up.</summary>
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
    public static async Task<DocumentChange<T>?> ChangeAsync<T>(
        this IDocumentRepository<T> repository,
        string id,
        Func<T, T?> change,
        CancellationToken cancellationToken = default)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(repository);
        ArgumentNullException.ThrowIfNull(change);
        for (var attempt = 0; attempt < MaxChangeAttempts; attempt++)
        {
            var stored = await repository.LoadAsync(id, cancellationToken);
            if (stored is null)
            {
                return null;
            }

            var changed = change(stored.Document);
            if (changed is null)
            {
                return new DocumentChange<T>(stored.Document, Changed: false);
            }

            var write = await repository.UpdateAsync(id, changed, stored.Version, stored.ExpiresAt, cancellationToken);
            if (write.Succeeded)
            {
                return new DocumentChange<T>(changed, Changed: true);
            }

            if (write.Status == WriteStatus.NotFound)
            {
                return null;
            }

            // Lost a race: back off a little (randomized, growing) so the writers do not collide again in lockstep.
            await Task.Delay(Random.Shared.Next(1, 5 + attempt), cancellationToken);
        }

        throw new InvalidOperationException($"Document {id} kept changing under {MaxChangeAttempts} attempts to update it.");
    }
}

/// <summary>The outcome of <see cref="DocumentRepositoryExtensions.ChangeAsync{T}"/>.</summary>
/// <typeparam name="T">The document type.</typeparam>
/// <param name="Document">The document as stored after the call.</param>
/// <param name="Changed">False when the change function left it as it was.</param>
public sealed record DocumentChange<T>(T Document, bool Changed) where T : class;
