using Conclave.Knowledge.Collections;
using Conclave.Sessions.Contracts;
using Wolverine.Attributes;

namespace Conclave.Knowledge.Ingest;

/// <summary>Index version <paramref name="Version"/> of a document; sent durably to the "knowledge" queue.</summary>
public sealed record IngestDocument(Guid DocumentId, int Version);

/// <summary>Picks ingests off the durable "knowledge" queue.</summary>
public static class IngestDocumentHandler
{
    public static Task Handle(IngestDocument message, DocumentIndexer indexer, CancellationToken cancellationToken) =>
        indexer.IndexAsync(message, cancellationToken);
}

/// <summary>
/// A deleted session's collection goes, with its documents and chunks. Sticky to the "knowledge" queue:
/// the Sandbox module handles the same message on its own queue, and neither waits for the other.
/// </summary>
[StickyHandler(KnowledgeModule.Queue)]
public static class KnowledgeSessionRemovedHandler
{
    public static Task Handle(SessionRemoved message, DocumentIndexer indexer, CancellationToken cancellationToken) =>
        indexer.RemoveSessionAsync(message.OwnerId, message.SessionId, cancellationToken);
}
