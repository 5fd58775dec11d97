namespace Conclave.Sessions.Contracts;

// Session events about the session's knowledge: passages agents were given and cited, and the
// documents of the session's collection on their way into search. Stored names, like the others'.

/// <summary>
/// A passage of a document as an agent was given it: <see cref="Number"/> is the [n] it read, unique
/// in the session (numbering goes on from one search to the next).
/// </summary>
/// <param name="Page">The PDF page the passage starts on; null for kinds without pages.</param>
/// <param name="Heading">The heading path of its section (e.g. "Setup › Install"), when the document has headings.</param>
/// <param name="Passage">The text the agent read (bounded by the Knowledge module's tool).</param>
public sealed record Citation(int Number, Guid DocumentId, string DocumentName, int? Page, string? Heading, string Passage);

/// <summary>
/// The passages an agent's message cites by their numbers ([1], [2][3], [4-5]), resolved against the
/// passages given in the session before it. Appended in the same step as the message, so the
/// citations are kept with it for good. At most <see cref="MaxCitations"/>, in number order.
/// </summary>
public sealed record MessageCited(Guid RunId, Guid MessageId, string Agent, IReadOnlyList<Citation> Citations, DateTimeOffset At) : IRunEvent
{
    public const int MaxCitations = 20;
}

/// <summary>Where a document of the session's collection is on its way into search (a reading of the Knowledge module's state).</summary>
public enum KnowledgeDocumentState
{
    Queued,
    Extracting,

    /// <summary><see cref="KnowledgeDocumentChanged.ChunksEmbedded"/> of <see cref="KnowledgeDocumentChanged.ChunksTotal"/> chunks are embedded.</summary>
    Embedding,
    Ready,

    /// <summary><see cref="KnowledgeDocumentChanged.Failure"/> says why and what to do.</summary>
    Failed,

    /// <summary>The document was deleted; it left search.</summary>
    Removed,
}

/// <summary>
/// A document of the session's own collection changed state: queued, extracting, embedding n of m,
/// ready, failed (with the reason) or removed. Every change of state is one event; progress while
/// embedding is throttled by the Knowledge module (at most one event per document every 500 ms).
/// </summary>
/// <param name="Version">The document's version (a changed upload under the same name adds one).</param>
public sealed record KnowledgeDocumentChanged(
    Guid DocumentId,
    string Name,
    int Version,
    KnowledgeDocumentState State,
    int ChunksEmbedded,
    int ChunksTotal,
    string? Failure,
    DateTimeOffset At) : ITimelineEvent;
