namespace Conclave.Knowledge.Contracts;

/// <summary>Where documents live: a session's own collection, or a user's named library.</summary>
public enum CollectionKind
{
    /// <summary>One per session, created with the session's first document, removed with the session.</summary>
    Session,

    /// <summary>A named collection the owner keeps across sessions and can attach to teams and sessions.</summary>
    Library,
}

/// <param name="SessionId">The session a <see cref="CollectionKind.Session"/> collection belongs to.</param>
/// <param name="Documents">Documents in the collection, whatever their state.</param>
/// <param name="SizeBytes">The stored copies of its documents, in bytes.</param>
public sealed record KnowledgeCollection(
    Guid Id,
    string OwnerId,
    CollectionKind Kind,
    string Name,
    string? Description,
    Guid? SessionId,
    IReadOnlyList<CollectionAttachment> Attachments,
    int Documents,
    long SizeBytes,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

public enum AttachmentTarget
{
    Team,
    Session,
}

/// <summary>A library is searched by the runs of a team or a session it is attached to.</summary>
public sealed record CollectionAttachment(AttachmentTarget Target, Guid TargetId);

/// <summary>
/// Collections and libraries. Every call names the acting owner; another owner's collection is
/// reported as not found (<see cref="KnowledgeNotFoundException"/>).
/// </summary>
public interface IKnowledgeCollections
{
    /// <summary>The session's collection, created when missing. Throws when the session is not the owner's.</summary>
    Task<KnowledgeCollection> ForSessionAsync(string ownerId, Guid sessionId, CancellationToken cancellationToken);

    /// <summary>The session's collection when it has one (it is made with the first document).</summary>
    Task<KnowledgeCollection?> FindForSessionAsync(string ownerId, Guid sessionId, CancellationToken cancellationToken);

    Task<IReadOnlyList<KnowledgeCollection>> ListLibrariesAsync(string ownerId, CancellationToken cancellationToken);

    Task<KnowledgeCollection?> FindAsync(string ownerId, Guid collectionId, CancellationToken cancellationToken);

    Task<KnowledgeCollection> CreateLibraryAsync(string ownerId, string name, string? description, CancellationToken cancellationToken);

    Task<KnowledgeCollection> UpdateLibraryAsync(string ownerId, Guid libraryId, string name, string? description, CancellationToken cancellationToken);

    /// <summary>Deletes a library with its documents (their chunks leave search at once).</summary>
    Task DeleteLibraryAsync(string ownerId, Guid libraryId, CancellationToken cancellationToken);

    /// <summary>Attaches a library to a team or a session of the owner's (idempotent).</summary>
    Task<KnowledgeCollection> AttachAsync(string ownerId, Guid libraryId, CollectionAttachment attachment, CancellationToken cancellationToken);

    Task<KnowledgeCollection> DetachAsync(string ownerId, Guid libraryId, CollectionAttachment attachment, CancellationToken cancellationToken);

    /// <summary>
    /// What a run of <paramref name="teamId"/> in <paramref name="sessionId"/> searches: the session's
    /// collection and the owner's libraries attached to the session or to the team. Either may be null.
    /// </summary>
    Task<IReadOnlyList<Guid>> VisibleAsync(string ownerId, Guid? sessionId, Guid? teamId, CancellationToken cancellationToken);
}
