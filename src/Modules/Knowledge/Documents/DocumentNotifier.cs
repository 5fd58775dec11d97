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
/// progress within Embedding at most once per <see cref="ProgressThrottle.Interval"/> per document (a
/// document that embeds for a minute adds about a hundred events to its session, not one per batch).
/// </summary>
internal sealed class DocumentNotifier(IWolverineRuntime wolverine, ISessionLog sessions, TimeProvider clock, ILogger<DocumentNotifier> logger)
{
    private readonly ProgressThrottle _throttle = new(clock);

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

        if (change.SessionId is { } sessionId && _throttle.Admit(change))
        {
            await AppendAsync(sessionId, change.DocumentId, new KnowledgeDocumentChanged(
                change.DocumentId, change.Name, change.Version, StateOf(change.State),
                change.ChunksEmbedded, change.ChunksTotal, change.Failure, clock.GetUtcNow()), cancellationToken);
        }
    }

    /// <summary>The document was deleted: its session (if it is a session's) hears so.</summary>
    public Task RemovedAsync(Guid documentId, Guid? sessionId, string name, int version, CancellationToken cancellationToken)
    {
        _throttle.Forget(documentId);
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

/// <summary>
/// Which changes of a document reach its session: every change of state (or version), and progress
/// within Embedding once <see cref="Interval"/> has passed since the last one that did.
/// </summary>
internal sealed class ProgressThrottle(TimeProvider clock)
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    /// <summary>Per document: the state last admitted, its version, and when.</summary>
    private readonly ConcurrentDictionary<Guid, (DocumentState State, int Version, long At)> _admitted = new();

    public bool Admit(DocumentStateChanged change)
    {
        var now = clock.GetTimestamp();
        var admit = true;
        _admitted.AddOrUpdate(
            change.DocumentId,
            _ => (change.State, change.Version, now),
            (_, last) =>
            {
                admit = last.State != change.State || last.Version != change.Version
                    || (change.State == DocumentState.Embedding && clock.GetElapsedTime(last.At, now) >= Interval);
                return admit ? (change.State, change.Version, now) : last;
            });
        if (change.State is DocumentState.Ready or DocumentState.Failed)
        {
            // Nothing more comes for this version; a new one starts over at Queued.
            Forget(change.DocumentId);
        }

        return admit;
    }

    public void Forget(Guid documentId) => _admitted.TryRemove(documentId, out _);
}
