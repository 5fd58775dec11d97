using Conclave.Sessions.Contracts;
using Marten;

namespace Conclave.Sessions.Lifecycle;

/// <summary>
/// A user's sessions, read from their read model. A session of another owner, or a deleted one, is
/// not found: every use case starts by asking here.
/// </summary>
internal sealed class OwnedSessions(IDocumentStore store)
{
    public async Task<SessionSummary?> FindAsync(string ownerId, Guid sessionId, CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession();
        var summary = await session.LoadAsync<SessionSummary>(sessionId, cancellationToken);
        return summary is { Deleted: false } && summary.OwnerId == ownerId ? summary : null;
    }

    public async Task<SessionSummary> RequireAsync(string ownerId, Guid sessionId, CancellationToken cancellationToken) =>
        await FindAsync(ownerId, sessionId, cancellationToken) ?? throw new SessionNotFoundException(sessionId);

    /// <summary>The owner's sessions, most recently updated first (at most <see cref="SessionLimits.MaxListedSessions"/>).</summary>
    public async Task<IReadOnlyList<SessionSummary>> ListAsync(string ownerId, CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession();
        return await session.Query<SessionSummary>()
            .Where(s => s.OwnerId == ownerId && !s.Deleted)
            .OrderByDescending(s => s.UpdatedAt)
            .Take(SessionLimits.MaxListedSessions)
            .ToListAsync(cancellationToken);
    }
}
