namespace Conclave.Knowledge.Contracts;

/// <summary>Where a document is on its way into search.</summary>
public enum DocumentState
{
    /// <summary>Stored and waiting for an ingest worker.</summary>
    Queued,

    /// <summary>Text and structure are being read from the stored copy.</summary>
    Extracting,

    /// <summary>Chunks are being embedded: <see cref="KnowledgeDocument.ChunksEmbedded"/> of <see cref="KnowledgeDocument.ChunksTotal"/>.</summary>
    Embedding,

    /// <summary>Every chunk is in search.</summary>
    Ready,

    /// <summary>Not in search; <see cref="KnowledgeDocument.Failure"/> says why and what to do.</summary>
    Failed,
}

/// <param name="Kind">What the content was read as (pdf, docx, html, markdown, text, csv), once known.</param>
/// <param name="Sha256">Hex SHA-256 of the stored copy (the version being indexed or in search).</param>
/// <param name="Version">1 for the first upload; each changed upload under the same name adds one.</param>
/// <param name="Pages">Pages of a PDF; null for other kinds.</param>
public sealed record KnowledgeDocument(
    Guid Id,
    Guid CollectionId,
    string OwnerId,
    string Name,
    string? Kind,
    long SizeBytes,
    string Sha256,
    int Version,
    DocumentState State,
    int ChunksEmbedded,
    int ChunksTotal,
    int? Pages,
    string? Failure,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <param name="Created">False when the collection already held this exact content (by SHA-256) under this name or another: nothing new is indexed.</param>
public sealed record DocumentAdded(KnowledgeDocument Document, bool Created);

/// <summary>
/// Documents in collections. Every call names the acting owner; another owner's collection or
/// document is reported as not found.
/// </summary>
public interface IKnowledgeDocuments
{
    /// <summary>
    /// Stores an immutable copy of <paramref name="content"/> (read once, hashed while read, at most
    /// the document size limit) and queues it for ingest. The same name in the collection with new
    /// content makes a new version, whose chunks replace the old ones in one transaction when ready.
    /// Throws <see cref="KnowledgeLimitException"/> for the size and storage limits.
    /// </summary>
    Task<DocumentAdded> AddAsync(string ownerId, Guid collectionId, string name, Stream content, CancellationToken cancellationToken);

    Task<KnowledgeDocument?> FindAsync(string ownerId, Guid documentId, CancellationToken cancellationToken);

    Task<IReadOnlyList<KnowledgeDocument>> ListAsync(string ownerId, Guid collectionId, CancellationToken cancellationToken);

    /// <summary>Deletes the document; its chunks leave search in the same transaction.</summary>
    Task DeleteAsync(string ownerId, Guid documentId, CancellationToken cancellationToken);

    /// <summary>
    /// The text search holds for the document, in reading order, in sections by page and heading (the
    /// chunks' overlaps removed): what a citation opens. Empty until the document is ready.
    /// </summary>
    Task<DocumentText> ReadTextAsync(string ownerId, Guid documentId, CancellationToken cancellationToken);

    /// <summary>The stored copy of the document's current version, as uploaded.</summary>
    Task<DocumentContent> ReadContentAsync(string ownerId, Guid documentId, CancellationToken cancellationToken);
}

/// <summary>A run of the document's text on one page (PDF) under one heading path.</summary>
public sealed record DocumentSection(int? Page, string? Heading, string Text);

public sealed record DocumentText(KnowledgeDocument Document, IReadOnlyList<DocumentSection> Sections);

/// <summary>The bytes as uploaded; never served as active content (the API sends them as an attachment).</summary>
public sealed record DocumentContent(KnowledgeDocument Document, ReadOnlyMemory<byte> Bytes);

/// <summary>
/// Published in-process (Wolverine) whenever a document changes state or progress, for the UI and
/// the session log. <see cref="SessionId"/> is set for documents of a session's collection.
/// </summary>
public sealed record DocumentStateChanged(
    Guid DocumentId,
    Guid CollectionId,
    Guid? SessionId,
    string OwnerId,
    string Name,
    int Version,
    DocumentState State,
    int ChunksEmbedded,
    int ChunksTotal,
    string? Failure);

/// <summary>
/// The file types read as documents: what a session's files panel adds to the session's knowledge by
/// default ("add to knowledge"). Others are not offered (the ingest would fail them as unsupported).
/// </summary>
public static class KnowledgeDocumentTypes
{
    public static IReadOnlyList<string> Extensions { get; } = [".pdf", ".docx", ".html", ".htm", ".md", ".markdown", ".txt", ".csv"];

    /// <summary>True when the name's extension is one of <see cref="Extensions"/> (any case).</summary>
    public static bool IsDocument(string name) =>
        Extensions.Contains(Path.GetExtension(name), StringComparer.OrdinalIgnoreCase);
}
