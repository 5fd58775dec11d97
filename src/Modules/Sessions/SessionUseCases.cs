using Conclave.Sessions.Contracts;
using Conclave.Sessions.Lifecycle;
using Conclave.Sessions.Live;
using Conclave.Sessions.Log;
using Conclave.Sessions.Messaging;
using Conclave.Sessions.Usage;
using Marten;

namespace Conclave.Sessions;

/// <summary>
/// The session use cases behind both the REST API and the UI, one line each: every use case lives
/// in its feature folder (command, validation, decision). Validation happens before anything is
/// appended, so bad input changes nothing.
/// </summary>
internal sealed class SessionUseCases(
    IDocumentStore store, SessionStream stream, SessionLog log, OwnedSessions sessions, Quotas quotas, TimeProvider clock) : ISessions
{
    public Task<SessionSummary> CreateAsync(string ownerId, string? title, CancellationToken cancellationToken) =>
        new CreateSession(ownerId, title).ExecuteAsync(stream, sessions, clock, cancellationToken);

    public Task<IReadOnlyList<SessionSummary>> ListAsync(string ownerId, CancellationToken cancellationToken) =>
        sessions.ListAsync(ownerId, cancellationToken);

    public Task<SessionSummary?> FindAsync(string ownerId, Guid sessionId, CancellationToken cancellationToken) =>
        sessions.FindAsync(ownerId, sessionId, cancellationToken);

    public Task<SessionSummary> RenameAsync(string ownerId, Guid sessionId, string title, CancellationToken cancellationToken) =>
        new RenameSession(ownerId, sessionId, title).ExecuteAsync(stream, sessions, clock, cancellationToken);

    public Task DeleteAsync(string ownerId, Guid sessionId, CancellationToken cancellationToken) =>
        new DeleteSession(ownerId, sessionId).ExecuteAsync(stream, sessions, clock, cancellationToken);

    public Task<SessionSummary> ChooseTeamAsync(string ownerId, Guid sessionId, Guid teamId, string teamName, CancellationToken cancellationToken) =>
        new ChooseTeam(ownerId, sessionId, teamId, teamName).ExecuteAsync(stream, sessions, clock, cancellationToken);

    public Task<PostedMessage> PostMessageAsync(string ownerId, Guid sessionId, string text, RunOverrides? limits, CancellationToken cancellationToken) =>
        new PostMessage(ownerId, sessionId, text, limits).ExecuteAsync(stream, sessions, quotas, clock, cancellationToken);

    public Task<PostedMessage> EditLastMessageAsync(string ownerId, Guid sessionId, Guid messageId, string text, CancellationToken cancellationToken) =>
        new EditLastMessage(ownerId, sessionId, messageId, text).ExecuteAsync(stream, log, sessions, quotas, clock, cancellationToken);

    public async Task<IReadOnlyList<RunSummary>> RunsAsync(string ownerId, Guid sessionId, CancellationToken cancellationToken)
    {
        await sessions.RequireAsync(ownerId, sessionId, cancellationToken);
        await using var session = store.QuerySession();
        return await session.Query<RunSummary>()
            .Where(r => r.SessionId == sessionId && r.OwnerId == ownerId)
            .OrderByDescending(r => r.QueuedAt)
            .Take(200)
            .ToListAsync(cancellationToken);
    }

    public Task<UsageTotals> UsageAsync(string ownerId, DateTimeOffset since, CancellationToken cancellationToken) =>
        RunUsageQuery.OfAsync(store, ownerId, since, cancellationToken);

    public Task<EventPage> ReadEventsAsync(string ownerId, Guid sessionId, long afterVersion, int limit, CancellationToken cancellationToken) =>
        new ReadEvents(ownerId, sessionId, afterVersion, limit).ExecuteAsync(log, sessions, cancellationToken);
}
