using Conclave.Sessions.Contracts;
using Conclave.Sessions.Log;

namespace Conclave.Sessions.Lifecycle;

/// <summary>Set the team for the session's next runs (the caller has checked the team is the owner's or built in).</summary>
internal sealed record ChooseTeam(string OwnerId, Guid SessionId, Guid TeamId, string TeamName)
{
    public Decision Decide(DateTimeOffset now) => Decision.Append(new SessionTeamChanged(TeamId, TeamName, now));

    public async Task<SessionSummary> ExecuteAsync(SessionStream stream, OwnedSessions sessions, TimeProvider clock, CancellationToken cancellationToken)
    {
        await sessions.RequireAsync(OwnerId, SessionId, cancellationToken);
        await stream.AppendAsync(SessionId, Decide(clock.GetUtcNow()), cancellationToken);
        return await sessions.RequireAsync(OwnerId, SessionId, cancellationToken);
    }
}
