namespace Calc.Data;

/// <summary>
/// A collection of JSON documents of one type, kept small on purpose (as Marten's session is): load by id, insert,
/// update with optimistic concurrency, delete, and query/count on the collection's one indexed field.
/// Every provider (SQLite, Marten on PostgreSQL, MongoDB, Redis) passes the same compliance suite.
/// </summary>
/// <remarks>
/// A document whose <see cref="StoredDocument{T}.ExpiresAt"/> has passed is never returned, counted or updated;
/// providers remove it eventually (see <see cref="PurgeExpiredAsync"/>).
/// </remarks>
/// <typeparam name="T">The document type, serialized with System.Text.Json.</typeparam>
public interface IDocumentRepository<T> where T : class
{
    /// <summary>Loads one document, or null when it does not exist or has expired.</summary>
    Task<StoredDocument<T>?> LoadAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>
    /// Loads the live documents among <paramref name="ids"/>, in no particular order (sort by <see cref="StoredDocument{T}.Id"/>
    /// if order matters). An id with no document, or whose document has expired, is simply not in the result, as
    /// <see cref="LoadAsync"/> returns null for it; an id given more than once is returned once.
    /// </summary>
    /// <remarks>
    /// Providers read the ids in chunks of a bounded size, one round trip per chunk, so a caller holding many ids pays
    /// ids / chunk round trips instead of one per id; an empty list returns at once. All of the result is held in
    /// memory: to keep memory bounded, pass the ids in slices of a size the caller can afford.
    /// Each chunk is read at one moment; chunks are not one snapshot.
    /// </remarks>
    /// <param name="ids">The ids to load; none may be null or empty.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task<IReadOnlyList<StoredDocument<T>>> LoadManyAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken = default);

    /// <summary>Inserts a new document at version 1. Fails with <see cref="WriteStatus.AlreadyExists"/> when the id is taken by a live document.</summary>
    Task<WriteResult<T>> InsertAsync(string id, T document, DateTimeOffset? expiresAt = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Replaces a document if its stored version still equals <paramref name="expectedVersion"/>, and increments the version.
    /// A stale write is rejected with <see cref="WriteStatus.VersionConflict"/>, never applied.
    /// </summary>
    /// <param name="id">The document id.</param>
    /// <param name="document">The new content.</param>
    /// <param name="expectedVersion">The version the caller loaded.</param>
    /// <param name="expiresAt">The new expiry; null removes any expiry.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task<WriteResult<T>> UpdateAsync(string id, T document, long expectedVersion, DateTimeOffset? expiresAt = null, CancellationToken cancellationToken = default);

    /// <summary>Deletes a document. Returns false when there was none.</summary>
    Task<bool> DeleteAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>
    /// Lists documents, optionally only those whose indexed field equals <see cref="DocumentQuery.IndexValue"/>,
    /// ordered by the collection's sort key (then id), with paging.
    /// </summary>
    Task<IReadOnlyList<StoredDocument<T>>> QueryAsync(DocumentQuery query, CancellationToken cancellationToken = default);

    /// <summary>Counts live documents, optionally only those whose indexed field equals <paramref name="indexValue"/>.</summary>
    Task<long> CountAsync(string? indexValue = null, CancellationToken cancellationToken = default);

    /// <summary>Counts live documents per value of the indexed field (values with no documents are absent).</summary>
    Task<IReadOnlyDictionary<string, long>> CountByIndexAsync(CancellationToken cancellationToken = default);

    /// <summary>Removes expired documents now; returns how many were removed. Providers also do this in the background.</summary>
    Task<long> PurgeExpiredAsync(CancellationToken cancellationToken = default);
}

/// <summary>A document as stored: its content, its version for optimistic concurrency, and its optional expiry.</summary>
/// <typeparam name="T">The document type.</typeparam>
/// <param name="Id">The document id.</param>
/// <param name="Document">The content.</param>
/// <param name="Version">Starts at 1 on insert, incremented on every update.</param>
/// <param name="ExpiresAt">When the document stops existing, or null for never.</param>
public sealed record StoredDocument<T>(string Id, T Document, long Version, DateTimeOffset? ExpiresAt) where T : class;

/// <summary>The outcome of a write: errors as values, not exceptions, for the expected cases.</summary>
/// <typeparam name="T">The document type.</typeparam>
/// <param name="Status">What happened.</param>
/// <param name="Stored">The document as stored after a successful write; null otherwise.</param>
public sealed record WriteResult<T>(WriteStatus Status, StoredDocument<T>? Stored) where T : class
{
    /// <summary>True when the write was applied.</summary>
    public bool Succeeded => Status == WriteStatus.Written;
}

/// <summary>What a write did.</summary>
public enum WriteStatus
{
    /// <summary>The write was applied.</summary>
    Written,
    /// <summary>Insert: a live document with that id exists.</summary>
    AlreadyExists,
    /// <summary>Update: no live document with that id.</summary>
    NotFound,
    /// <summary>Update: the stored version differs from the expected one (someone else wrote first).</summary>
    VersionConflict,
}

/// <summary>A page of documents, optionally filtered on the collection's indexed field.</summary>
/// <param name="IndexValue">Only documents whose indexed field equals this; null for all.</param>
/// <param name="Offset">How many to skip (0 or more).</param>
/// <param name="Limit">How many to return at most (1 or more).</param>
/// <param name="Descending">Newest (highest sort key) first when true.</param>
public sealed record DocumentQuery(string? IndexValue = null, int Offset = 0, int Limit = 50, bool Descending = false);
