using Conclave.Sessions.Contracts;
using Conclave.Sessions.Log;

namespace Conclave.Sessions.Lifecycle;

internal sealed record RenameSession(string OwnerId, Guid SessionId, string Title)
{
    public Decision Decide(DateTimeOffset now) => Decision.Append(new SessionRenamed(SessionTitle.Validate(Title), now));

    public async Task<SessionSummary> ExecuteAsync(SessionStream stream, OwnedSessions sessions, TimeProvider clock, CancellationToken cancellationToken)
    {
        SessionTitle.Validate(Title);
        await sessions.RequireAsync(OwnerId, SessionId, cancellationToken);
        await stream.AppendAsync(SessionId, Decide(clock.GetUtcNow()), cancellationToken);
        return await sessions.RequireAsync(OwnerId, SessionId, cancellationToken);
    }
}
