using Conclave.Sessions.Contracts;
using Conclave.Sessions.Log;

namespace Conclave.Sessions.Lifecycle;

/// <summary>Delete a session: it disappears from every view; its log is kept.</summary>
internal sealed record DeleteSession(string OwnerId, Guid SessionId)
{
    /// <summary>Whatever other modules keep for the session goes with it (<see cref="SessionRemoved"/>), or the deletion does not happen.</summary>
    public Decision Decide(DateTimeOffset now) =>
        Decision.Append(new SessionDeleted(now)).Send(new SessionRemoved(SessionId, OwnerId));

    public async Task ExecuteAsync(SessionStream stream, OwnedSessions sessions, TimeProvider clock, CancellationToken cancellationToken)
    {
        await sessions.RequireAsync(OwnerId, SessionId, cancellationToken);
        await stream.AppendAsync(SessionId, Decide(clock.GetUtcNow()), cancellationToken);
    }
}
