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

    /// <summary>Sets the team for the session's next runs. The caller has checked the team is the owner's (or built in).</summary>
    Task<SessionSummary> ChooseTeamAsync(string ownerId, Guid sessionId, Guid teamId, string teamName, CancellationToken cancellationToken);

    /// <summary>Posts a message and queues a run for it, with optional overrides of the team's limits.</summary>
    Task<PostedMessage> PostMessageAsync(string ownerId, Guid sessionId, string text, RunOverrides? limits, CancellationToken cancellationToken);

    Task<PostedMessage> PostMessageAsync(string ownerId, Guid sessionId, string text, CancellationToken cancellationToken) =>
        PostMessageAsync(ownerId, sessionId, text, null, cancellationToken);

    /// <summary>
    /// Replaces the session's last user message: what followed it is superseded (a run still going
    /// is cancelled) and a new run starts on the edited history. Throws
    /// <see cref="SessionValidationException"/> when <paramref name="messageId"/> is not the last user message.
    /// </summary>
    Task<PostedMessage> EditLastMessageAsync(string ownerId, Guid sessionId, Guid messageId, string text, CancellationToken cancellationToken);

    /// <summary>The session's runs, newest first (at most 200).</summary>
    Task<IReadOnlyList<RunSummary>> RunsAsync(string ownerId, Guid sessionId, CancellationToken cancellationToken);

    /// <summary>The owner's usage of the runs queued since <paramref name="since"/> (deleted sessions included: they were used).</summary>
    Task<UsageTotals> UsageAsync(string ownerId, DateTimeOffset since, CancellationToken cancellationToken);

    /// <summary>A page of events after <paramref name="afterVersion"/>.</summary>
    Task<EventPage> ReadEventsAsync(string ownerId, Guid sessionId, long afterVersion, int limit, CancellationToken cancellationToken);
}

public sealed record PostedMessage(Guid SessionId, Guid MessageId, Guid RunId, long Version);

public sealed record EventPage(IReadOnlyList<SessionEvent> Events, long LastVersion, bool HasMore);
