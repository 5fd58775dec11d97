using System.Collections.Concurrent;
using Conclave.Knowledge.Contracts;
using Conclave.Sessions.Contracts;
using Microsoft.Extensions.Logging;
using Wolverine;
using Wolverine.Runtime;

namespace Conclave.Knowledge.Documents;

/// <summary>
/// Tells the rest of the Host where a document is: <see cref="DocumentStateChanged"/> published
/// in-process at once (not held until a handler ends), and, for a document of a session's own
/// collection, a <see cref="KnowledgeDocumentChanged"/> in that session's log, so the live feed
/// carries it (the UI and tests wait on it without polling). Every change of state is appended;
/// progress within Embedding at most once per <see cref="ProgressInterval"/> per document, so a
/// 500-page document adds tens of events to the session, not thousands.
/// </summary>
internal sealed class DocumentNotifier(IWolverineRuntime wolverine, ISessionLog sessions, TimeProvider clock, ILogger<DocumentNotifier> logger)
{
    public static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>Per document: the state last appended to its session, and when.</summary>
    private readonly ConcurrentDictionary<Guid, (DocumentState State, int Version, long At)> _appended = new();

    public async Task PublishAsync(DocumentStateChanged change, CancellationToken cancellationToken = default)
    {
        try
        {
            await new MessageBus(wolverine).PublishAsync(change);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A notice; the document's state is in the database either way.
            logger.LogWarning(e, "Could not publish the state of document {DocumentId}", change.DocumentId);
        }

        if (change.SessionId is { } sessionId && ShouldAppend(change))
        {
            await AppendAsync(sessionId, change.DocumentId, new KnowledgeDocumentChanged(
                change.DocumentId, change.Name, change.Version, StateOf(change.State),
                change.ChunksEmbedded, change.ChunksTotal, change.Failure, clock.GetUtcNow()), cancellationToken);
        }
    }

    /// <summary>The document was deleted: its session (if it is a session's) hears so.</summary>
    public Task RemovedAsync(Guid documentId, Guid? sessionId, string name, int version, CancellationToken cancellationToken)
    {
        _appended.TryRemove(documentId, out _);
        return sessionId is { } session
            ? AppendAsync(session, documentId, new KnowledgeDocumentChanged(documentId, name, version, KnowledgeDocumentState.Removed, 0, 0, null, clock.GetUtcNow()), cancellationToken)
            : Task.CompletedTask;
    }

    private static KnowledgeDocumentState StateOf(DocumentState state) => state switch
    {
        DocumentState.Queued => KnowledgeDocumentState.Queued,
        DocumentState.Extracting => KnowledgeDocumentState.Extracting,
        DocumentState.Embedding => KnowledgeDocumentState.Embedding,
        DocumentState.Ready => KnowledgeDocumentState.Ready,
        DocumentState.Failed => KnowledgeDocumentState.Failed,
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
    };

    /// <summary>A change of state (or version) always; the same state again only when it is progress and the interval has passed.</summary>
    private bool ShouldAppend(DocumentStateChanged change)
    {
        var now = clock.GetTimestamp();
        var settled = change.State is DocumentState.Ready or DocumentState.Failed;
        var append = true;
        _appended.AddOrUpdate(
            change.DocumentId,
            _ => (change.State, change.Version, now),
            (_, last) =>
            {
                append = last.State != change.State || last.Version != change.Version
                    || (change.State == DocumentState.Embedding && clock.GetElapsedTime(last.At, now) >= ProgressInterval);
                return append ? (change.State, change.Version, now) : last;
            });
        if (settled)
        {
            // Nothing more comes for this version; a new one starts over at Queued.
            _appended.TryRemove(change.DocumentId, out _);
        }

        return append;
    }

    private async Task AppendAsync(Guid sessionId, Guid documentId, KnowledgeDocumentChanged change, CancellationToken cancellationToken)
    {
        try
        {
            await sessions.AppendAsync(sessionId, [change], cancellationToken);
        }
        catch (SessionNotFoundException)
        {
            // The session was deleted; its collection goes with it.
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Could not add the state of document {DocumentId} to session {SessionId}", documentId, sessionId);
        }
    }
}
