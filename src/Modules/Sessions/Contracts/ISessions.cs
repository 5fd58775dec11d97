namespace Conclave.Sessions.Contracts;

/// <summary>
/// The session use cases, for the REST API and the UI alike. Every call names the acting owner;
/// a session of another owner (or a deleted one) is reported as not found.
/// </summary>
public interface ISessions
{
    Task<SessionSummary> CreateAsync(string ownerId, string? title, CancellationToken cancellationToken);

    Task<IReadOnlyList<SessionSummary>> ListAsync(string ownerId, CancellationToken cancellationToken);

    Task<SessionSummary?> FindAsync(string ownerId, Guid sessionId, CancellationToken cancellationToken);

    Task<SessionSummary> RenameAsync(string ownerId, Guid sessionId, string title, CancellationToken cancellationToken);

    Task DeleteAsync(string ownerId, Guid sessionId, CancellationToken cancellationToken);

    Task<PostedMessage> PostMessageAsync(string ownerId, Guid sessionId, string text, CancellationToken cancellationToken);

    /// <summary>A page of events after <paramref name="afterVersion"/>.</summary>
    Task<EventPage> ReadEventsAsync(string ownerId, Guid sessionId, long afterVersion, int limit, CancellationToken cancellationToken);
}

public sealed record PostedMessage(Guid SessionId, Guid MessageId, Guid RunId, long Version);

public sealed record EventPage(IReadOnlyList<SessionEvent> Events, long LastVersion, bool HasMore);
